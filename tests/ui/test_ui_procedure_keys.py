"""The run screen's keys stay on the screen, whichever part of it handles them.

The keys are declared on ``ProcedureScreen`` (the footer, the palette and remapping read
them there) while the intents and the session's lifecycle live in ``intents.py`` and
``lifecycle.py``. Textual resolves a key's action on the screen, so each one must name an
``action_*`` of the screen itself, and every intent a follower is not offered is a key.
"""

from __future__ import annotations

from textual import actions
from textual.binding import Binding

from runbook_tui.ui.screens.procedure import ProcedureScreen
from runbook_tui.ui.screens.procedure.screen import INTENT_ACTIONS


def test_every_key_of_the_run_screen_names_an_action_of_the_screen() -> None:
    for binding in ProcedureScreen.BINDINGS:
        assert isinstance(binding, Binding)
        namespace, name, _params = actions.parse(binding.action)
        assert namespace == "", f"{binding.key}: {binding.action} must resolve on the screen"
        assert callable(getattr(ProcedureScreen, f"action_{name}", None)), f"{binding.key}: no action_{name}"


def test_every_intent_kept_from_a_follower_is_a_key_of_the_run_screen() -> None:
    names = {actions.parse(b.action)[1] for b in ProcedureScreen.BINDINGS if isinstance(b, Binding)}
    assert names >= INTENT_ACTIONS, sorted(INTENT_ACTIONS - names)
