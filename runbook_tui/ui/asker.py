"""The app's side of the engine's Asker: each question is a modal screen, awaited."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App
from textual.screen import ModalScreen

from ..core.asker import ConfirmRequest, ManualAnswer
from ..core.model import Parameter, Step


class UiAsker:
    """Asks through modal screens; the engine awaits the answer while the UI stays live."""

    by = "engineer"

    def __init__(self, app: App[object]) -> None:
        self.app = app

    async def _ask(self, screen: ModalScreen[Any]) -> Any:
        # A future resolved by the dismiss callback: works from any task in this loop,
        # not only from inside a worker (push_screen_wait's requirement).
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def done(result: Any) -> None:
            if not answer.done():
                answer.set_result(result)

        self.app.push_screen(screen, done)
        return await answer

    async def confirm(self, request: ConfirmRequest) -> bool:
        """The confirmation modal; a destructive step needs its id typed."""
        from .screens.confirm import ConfirmModal

        step = request.step
        modal = ConfirmModal(
            step_id=step.id,
            title=step.title,
            message=request.message,
            diff=request.diff,
            destructive=step.destructive,
            # The rendered command (values in it): what will run is shown whole.
            command=command if isinstance(command := getattr(step.spec, "command", None), str) else None,
        )
        return bool(await self._ask(modal))

    async def parameter(self, param: Parameter, choices: list[str]) -> str | None:
        """The parameter form; ``None`` when the engineer cancels."""
        from .screens.parameter import ParameterModal

        value = await self._ask(ParameterModal(param, choices))
        return value if isinstance(value, str) else None

    async def manual(self, step: Step) -> ManualAnswer:
        """The manual-step modal: done (with a note) or not done."""
        from .screens.manual import ManualModal

        answer = await self._ask(ManualModal(step))
        return answer if answer is not None else ManualAnswer(False, "")
