"""docker steps: an image's local tags, a container's state, restart, recent logs.

The docker SDK blocks, so every call runs in a thread (``asyncio.to_thread``).
An engine that cannot be reached, an unknown image or an unknown container is
a failed outcome with a sentence that says what exists and what to do, never
an exception.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from ..errors import RunbookTuiError
from ..model import Step, StepKind
from ..versions import version_key
from .base import KindDef, StepContext, StepOutcome, StepRunner

if TYPE_CHECKING:
    from ..loader.nodes import MappedNode, NodeReader


# --- the kind: its spec, keys and reader ----------------------------------------


class DockerAction(StrEnum):
    TAGS = "tags"
    STATE = "state"
    RESTART = "restart"
    LOGS = "logs"


@dataclass(frozen=True, slots=True)
class DockerSpec:
    """A Docker Engine action: list an image's tags, a container's state, restart, logs."""

    action: DockerAction
    image: str | None = None
    container: str | None = None
    since: float | None = None
    tail: int = 200
    # Which engine: ``ssh://user@host[:port]`` (through the system ssh client) or None:
    # ``DOCKER_HOST`` from the session's environment, else the local socket.
    docker_host: str | None = None


DOCKER_HOST_SCHEMES = ("ssh://", "unix://", "tcp://")


def read(r: NodeReader, m: MappedNode, what: str) -> DockerSpec | None:
    """A docker step's keys; ``tags`` needs an image, the other actions a container."""
    action = r.choice(m, "action", what, DockerAction)
    if action is None:
        return None
    needs = "image" if action is DockerAction.TAGS else "container"
    if needs not in m:
        r.ctx.error(m.node, f"{what} (action {action.value}) is missing {needs!r}")
    tail = r.integer(m, "tail", what, 200)
    docker_host = r.opt_text(m, "docker_host", what)
    if docker_host is not None and not docker_host.startswith(DOCKER_HOST_SCHEMES):
        r.ctx.error(
            m.node,
            f"{what}: docker_host {docker_host!r} is not an engine address; "
            "write ssh://user@host[:port] (or unix:///path, tcp://host:port)",
        )
    return DockerSpec(
        action=action,
        image=r.opt_text(m, "image", what),
        container=r.opt_text(m, "container", what),
        since=r.duration(m, "since", what),
        tail=200 if tail is None else tail,
        docker_host=docker_host,
    )


# --- the runner ------------------------------------------------------------------

__all__ = [
    "ContainerState",
    "DockerRunner",
    "DockerStepError",
    "DockerUnavailable",
    "ImageTag",
    "connect",
    "container_state",
    "engine_address",
    "image_tags",
    "list_image_tags",
]

DEFAULT_HOST = "unix:///var/run/docker.sock"
_SHOWN = 12
_T = TypeVar("_T")


class DockerStepError(RunbookTuiError):
    """A docker action could not be done (unknown image or container, engine error)."""

    exit_code = 1


class DockerUnavailable(DockerStepError):
    """No Docker Engine answered."""


@dataclass(frozen=True, slots=True)
class ImageTag:
    """One tag of a local image repository."""

    tag: str
    reference: str
    created: datetime
    short_id: str


@dataclass(frozen=True, slots=True)
class ContainerState:
    """What the engine says about a container."""

    name: str
    status: str
    health: str | None
    restart_count: int
    image: str
    started_at: str

    @property
    def ok(self) -> bool:
        return self.status == "running" and self.health != "unhealthy"

    def describe(self) -> str:
        health = f" ({self.health})" if self.health else ""
        restarts = "1 restart" if self.restart_count == 1 else f"{self.restart_count} restarts"
        return f"{self.name} is {self.status}{health}, image {self.image}, {restarts}"


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for needle, reason in (
        ("FileNotFoundError", "no such socket"),
        ("ConnectionRefused", "connection refused"),
        ("Connection refused", "connection refused"),
        ("PermissionError", "permission denied (is your user in the docker group?)"),
        ("Read timed out", "no answer in time"),
        ("Remote end closed connection", "the ssh connection closed at once (ssh says why on stderr)"),
    ):
        if needle in text:
            return reason
    return text.removeprefix("Error while fetching server API version: ")


def engine_address(env: Mapping[str, str] | None = None, docker_host: str | None = None) -> str:
    """Which engine a step talks to: its ``docker_host``, else ``DOCKER_HOST``, else the local socket."""
    return docker_host or (env if env is not None else os.environ).get("DOCKER_HOST") or DEFAULT_HOST


def connect(env: Mapping[str, str] | None = None, timeout: float = 30, docker_host: str | None = None) -> Any:
    """A docker client for ``docker_host`` or ``env`` (DOCKER_HOST etc.) that has answered a ping. Blocks.

    ``ssh://`` engines go through the system ssh client (``use_ssh_client``), so the
    user's ssh config and agent give the identity and the known hosts, as for ``docker``
    itself; the far side runs ``docker system dial-stdio``.
    """
    import docker  # the SDK (and requests) only when a step or a choice reaches an engine
    import requests
    from docker.errors import DockerException

    environment = dict(env) if env is not None else None
    host = engine_address(env, docker_host)
    try:
        if host.startswith("ssh://"):
            client = docker.DockerClient(base_url=host, use_ssh_client=True, timeout=int(timeout))
        elif docker_host:
            client = docker.DockerClient(base_url=host, timeout=int(timeout))
        else:
            client = docker.from_env(environment=environment, timeout=int(timeout))
        client.ping()
    except (DockerException, requests.RequestException, OSError) as exc:
        hint = (
            "can you `ssh` there without a prompt, and is docker on its PATH?"
            if host.startswith("ssh://")
            else "is dockerd running?"
        )
        raise DockerUnavailable(
            f"cannot reach the Docker Engine at {host}: {_reason(exc)} — {hint}"
        ) from None
    return client


def _split(reference: str) -> tuple[str, str]:
    slash, colon = reference.rfind("/"), reference.rfind(":")
    return (reference[:colon], reference[colon + 1 :]) if colon > slash else (reference, "")


def _created(text: str) -> datetime:
    """Docker's RFC 3339 time with nanoseconds -> an aware datetime."""
    stamp, _, fraction = text.rstrip("Z").partition(".")
    stamp = stamp.split("+")[0]
    micros = (fraction + "000000")[:6]
    return datetime.fromisoformat(f"{stamp}.{micros}").replace(tzinfo=UTC)


def _repositories(client: Any) -> list[str]:
    names = {_split(ref)[0] for image in client.images.list() for ref in image.tags}
    return sorted(names)


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN]) + (" ..." if len(names) > _SHOWN else "")
    return shown or "none"


def image_tags(client: Any, repository: str) -> list[ImageTag]:
    """Local tags of ``repository``, newest image first. Raises DockerStepError if there are none."""
    found: list[ImageTag] = []
    for image in client.images.list(name=repository):
        created = _created(str(image.attrs.get("Created", "1970-01-01T00:00:00Z")))
        for reference in image.tags:
            name, tag = _split(reference)
            if name == repository and tag:
                found.append(ImageTag(tag, reference, created, image.id.removeprefix("sha256:")[:12]))
    if not found:
        raise DockerStepError(
            f"no local images of repository '{repository}'; repositories: {_listing(_repositories(client))}. "
            "Build or pull it first, or check the step's image:"
        )
    found.sort(key=lambda t: (t.created, version_key(t.tag)), reverse=True)
    return found


def list_image_tags(
    repository: str, env: Mapping[str, str] | None = None, docker_host: str | None = None
) -> list[str]:
    """An engine's tags of ``repository``, newest first (for choices). Blocks; raises DockerStepError."""
    client = connect(env, docker_host=docker_host)
    try:
        return [t.tag for t in image_tags(client, repository)]
    finally:
        client.close()


def _container(client: Any, name: str) -> Any:
    from docker.errors import NotFound

    try:
        return client.containers.get(name)
    except NotFound:
        names = [f"{c.name} ({c.status})" for c in client.containers.list(all=True)]
        raise DockerStepError(
            f"no container '{name}'; containers: {_listing(sorted(names))}. Check the step's container:"
        ) from None


def container_state(client: Any, name: str) -> ContainerState:
    """The state of container ``name``. Raises DockerStepError when there is no such container."""
    container = _container(client, name)
    attrs = container.attrs
    state = attrs.get("State", {})
    return ContainerState(
        name=container.name,
        status=str(state.get("Status", "unknown")),
        health=(state.get("Health") or {}).get("Status"),
        restart_count=int(attrs.get("RestartCount", 0)),
        image=str(attrs.get("Config", {}).get("Image", "")),
        started_at=str(state.get("StartedAt", "")),
    )


def _log_key(line: str) -> tuple[str, str]:
    stamp, _, _ = line.partition(" ")
    seconds, _, fraction = stamp.rstrip("Z").partition(".")
    return seconds, fraction.ljust(9, "0")


def recent_logs(client: Any, name: str, *, since: float | None, tail: int) -> list[tuple[str, str]]:
    """The last ``tail`` log lines (``since`` seconds back), as (stream, text), in time order."""
    container = _container(client, name)
    options: dict[str, Any] = {"timestamps": True, "tail": tail}
    if since is not None:
        options["since"] = int(time.time() - since)
    tty = bool(container.attrs.get("Config", {}).get("Tty"))
    streams = [("stdout", True, tty)] + ([] if tty else [("stderr", False, True)])
    stamped: list[tuple[tuple[str, str], int, str, str]] = []
    for order, (stream, out, err) in enumerate(streams):
        raw = client.api.logs(container.id, stdout=out, stderr=err, **options)
        for line in raw.decode("utf-8", errors="replace").splitlines():
            text = line.partition(" ")[2]
            stamped.append((_log_key(line), order, stream, text))
    stamped.sort(key=lambda item: (item[0], item[1]))
    return [(stream, text) for _, _, stream, text in stamped[-tail:]] if tail else []


def _engine_errors() -> tuple[type[Exception], ...]:
    """What the SDK raises when the engine refuses (imported on the first failure, not at start-up)."""
    import requests
    from docker.errors import APIError, DockerException

    return (APIError, DockerException, requests.RequestException)


def _spec(step: Step) -> DockerSpec:
    if not isinstance(step.spec, DockerSpec):
        raise TypeError(f"step {step.id} is not a docker step")
    return step.spec


class DockerRunner(StepRunner):
    """Image tags, container state, restart and logs through the Docker Engine."""

    kind: ClassVar[StepKind] = StepKind.DOCKER

    def describe(self, step: Step) -> str:
        spec = _spec(step)
        where = f" on {spec.docker_host}" if spec.docker_host else ""
        if spec.action is DockerAction.TAGS:
            return f"docker: list the local tags of {spec.image}{where}"
        return f"docker: {spec.action.value} of container {spec.container}{where}"

    async def run(self, step: Step, ctx: StepContext) -> StepOutcome:
        spec = _spec(step)
        client: Any = None
        try:
            self._check(spec)
            host = engine_address(ctx.env, spec.docker_host)
            if host != DEFAULT_HOST:  # another engine than this machine's: the journal says which
                ctx.output(f"Docker Engine at {host}", "info")
            client = await _call(connect, ctx.env, docker_host=spec.docker_host)
            outcome = await self._act(client, spec, ctx)
            return replace(outcome, data={**outcome.data, "docker_host": host})
        except DockerStepError as exc:
            ctx.output(str(exc), "stderr")
            return StepOutcome.failed(str(exc))
        except _engine_errors() as exc:
            message = f"the Docker Engine refused {spec.action.value}: {exc}"
            ctx.output(message, "stderr")
            return StepOutcome.failed(message)
        finally:
            if client is not None:
                client.close()

    @staticmethod
    def _check(spec: DockerSpec) -> None:
        if spec.action is DockerAction.TAGS and not spec.image:
            raise DockerStepError("docker tags needs an image: (the repository, e.g. connectin-api)")
        if spec.action is not DockerAction.TAGS and not spec.container:
            raise DockerStepError(f"docker {spec.action.value} needs a container: (its name)")

    async def _act(self, client: Any, spec: DockerSpec, ctx: StepContext) -> StepOutcome:
        if spec.action is DockerAction.TAGS:
            return await self._tags(client, str(spec.image), ctx)
        name = str(spec.container)
        if spec.action is DockerAction.STATE:
            return self._state(await _call(container_state, client, name), ctx, "")
        if spec.action is DockerAction.RESTART:
            await _call(lambda: _container(client, name).restart(timeout=10))
            return self._state(await _call(container_state, client, name), ctx, "restarted: ")
        return await self._logs(client, name, spec, ctx)

    @staticmethod
    async def _tags(client: Any, repository: str, ctx: StepContext) -> StepOutcome:
        tags = await _call(image_tags, client, repository)
        for t in tags:
            ctx.output(f"{t.tag}  {t.created:%Y-%m-%d %H:%M:%S} UTC  {t.short_id}")
        images = [{"tag": t.tag, "created": t.created.isoformat(), "id": t.short_id} for t in tags]
        return StepOutcome.passed(
            f"{len(tags)} tags of {repository}, newest {tags[0].tag}",
            tags=[t.tag for t in tags],
            images=images,
        )

    @staticmethod
    def _state(state: ContainerState, ctx: StepContext, prefix: str) -> StepOutcome:
        message = prefix + state.describe()
        ctx.output(message, "stdout" if state.ok else "stderr")
        data = {
            "status": state.status,
            "health": state.health,
            "restart_count": state.restart_count,
            "image": state.image,
            "started_at": state.started_at,
        }
        return StepOutcome.passed(message, **data) if state.ok else StepOutcome.failed(message, **data)

    @staticmethod
    async def _logs(client: Any, name: str, spec: DockerSpec, ctx: StepContext) -> StepOutcome:
        lines = await _call(recent_logs, client, name, since=spec.since, tail=spec.tail)
        for stream, text in lines:
            ctx.output(text, stream)
        window = f" from the last {spec.since:g}s" if spec.since is not None else ""
        return StepOutcome.passed(f"{len(lines)} log lines of {name}{window}", lines=len(lines))


async def _call(func: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
    """Run a blocking SDK call in a thread."""
    import asyncio  # where it is used: loading a runbook imports this module

    return await asyncio.to_thread(func, *args, **kwargs)


KIND = KindDef(
    spec=DockerSpec,
    keys=frozenset({"action", "image", "container", "since", "tail", "docker_host"}),
    required=("action",),
    read=read,
    runner=DockerRunner,
)
