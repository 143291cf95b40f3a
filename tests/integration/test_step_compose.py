"""compose_image steps on real compose files; hypothesis proves only the tag changes."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers.images import build_test_image, free_port
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runbook_tui.core import edits
from runbook_tui.core.edits import EditError
from runbook_tui.core.events import StepStatus
from runbook_tui.core.model import ComposeImageSpec, Step, StepKind
from runbook_tui.core.steps.compose_image import (
    ComposeImageRunner,
    current_image,
    plan_compose_edit,
    services,
    split_image,
)

COMPOSE = """\
# ConnectIn stack
x-logging: &logging
  driver: json-file   # keep logs local

services:
  api:
    # pinned by the release job
    image: "registry.local:5000/connectin/api:1.4.2"  # do not use latest
    ports: ["5007:5007"]
    logging: *logging
  web:
    image: connectin-web   # no tag: latest
    depends_on: [api]
"""


@dataclass
class Ctx:
    workdir: Path
    backup_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    drill: bool = False
    lines: list[tuple[str, str]] = field(default_factory=list)

    def output(self, text: str, stream: str = "stdout") -> None:
        self.lines.append((stream, text))


def _write(tmp_path: Path, text: str = COMPOSE) -> Path:
    path = tmp_path / "docker-compose.yml"
    path.write_text(text)
    return path


def _step(service: str, tag: str) -> Step:
    return Step(
        id="pin",
        title="Pin tag",
        kind=StepKind.COMPOSE_IMAGE,
        spec=ComposeImageSpec(service=service, tag=tag),
    )


def test_split_image() -> None:
    assert split_image("registry.local:5000/team/api:1.2") == ("registry.local:5000/team/api", "1.2")
    assert split_image("registry.local:5000/team/api") == ("registry.local:5000/team/api", None)
    assert split_image("api") == ("api", None)
    assert split_image("api:v1") == ("api", "v1")


async def test_changes_only_the_tag_keeping_registry_port_quotes_and_comments(tmp_path: Path) -> None:
    path = _write(tmp_path)
    ctx = Ctx(tmp_path, tmp_path / "b")
    outcome = await ComposeImageRunner().run(_step("api", "1.4.1"), ctx)
    assert outcome.status is StepStatus.PASSED, outcome.message
    assert path.read_text() == COMPOSE.replace("api:1.4.2", "api:1.4.1")
    assert outcome.edit is not None and outcome.edit.backup.read_text() == COMPOSE
    assert current_image(path, "api") == "registry.local:5000/connectin/api:1.4.1"
    assert (
        "info",
        "docker-compose.yml: service api image registry.local:5000/connectin/api:1.4.2 -> "
        "registry.local:5000/connectin/api:1.4.1",
    ) in ctx.lines


def test_an_image_without_a_tag_gets_one_appended(tmp_path: Path) -> None:
    path = _write(tmp_path)
    edit = plan_compose_edit(path, "web", "2.0.0")
    assert edit is not None
    assert edit.after.decode() == COMPOSE.replace("image: connectin-web ", "image: connectin-web:2.0.0 ")
    assert path.read_text() == COMPOSE  # planning writes nothing


async def test_already_on_the_tag_passes_without_writing(tmp_path: Path) -> None:
    path = _write(tmp_path)
    outcome = await ComposeImageRunner().run(_step("api", "1.4.2"), Ctx(tmp_path, tmp_path / "b"))
    assert outcome.status is StepStatus.PASSED and outcome.edit is None
    assert outcome.message.startswith("already")
    assert path.read_text() == COMPOSE and not (tmp_path / "b").exists()


def test_undo_restores_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path)
    edit = plan_compose_edit(path, "api", "1.3.0")
    assert edit is not None
    applied = edits.apply(edit, tmp_path / "b")
    assert "api:1.3.0" in path.read_text()
    edits.undo(applied)
    assert path.read_text() == COMPOSE


def test_crlf_single_quotes_and_flow_mappings(tmp_path: Path) -> None:
    text = "services:\r\n  api: {image: 'api:1', restart: always}\r\n  db:\r\n    image: postgres:16\r\n"
    path = tmp_path / "compose.yaml"
    path.write_bytes(text.encode())
    edit = plan_compose_edit(path, "api", "0.9")
    assert edit is not None and edit.after == text.replace("'api:1'", "'api:0.9'").encode()
    edit = plan_compose_edit(path, "db", "15")
    assert edit is not None and edit.after == text.replace("postgres:16", "postgres:15").encode()


def test_services_are_listed_in_order(tmp_path: Path) -> None:
    assert services(_write(tmp_path)) == ["api", "web"]


@pytest.mark.parametrize(
    ("text", "service", "tag", "message"),
    [
        (COMPOSE, "apii", "1", "no service 'apii' in docker-compose.yml; services: api, web"),
        (COMPOSE, "api", "-bad", "'-bad' is not a valid image tag"),
        (COMPOSE, "api", "v1;rm", "is not a valid image tag"),
        (COMPOSE, "api", "x" * 129, "is not a valid image tag"),
        ("services:\n  api:\n    image: api@sha256:" + "a" * 64 + "\n", "api", "1", "pinned by digest"),
        ("services:\n  api:\n    image: ${API_IMAGE}\n", "api", "1", "docker-compose.yml:3: the image"),
        ("services:\n  api:\n    image: api:${TAG:-1}\n", "api", "1", "set by a variable"),
        (
            "x: &img api:1\nservices:\n  api:\n    image: *img\n",
            "api",
            "2",
            "docker-compose.yml:4: the image of service 'api' is shared through a YAML anchor "
            "(anchor at line 1",
        ),
        (
            "services:\n  api:\n    image: &img api:1\n  worker:\n    image: *img\n",
            "api",
            "2",
            "alias at line 5",
        ),
        (
            "x-base: &base\n  image: api:1\nservices:\n  api:\n    <<: *base\n",
            "api",
            "2",
            "docker-compose.yml:5: the image of service 'api' comes from a merged anchor",
        ),
        ("services:\n  api:\n    build: .\n", "api", "2", "service 'api' has no image: line"),
        ("services:\n  api:\n    image: |\n      api:1\n", "api", "2", "not a one-line string"),
        ('services:\n  api:\n    image: "api:\\x31"\n', "api", "2", "uses escapes"),
        ("services: [api]\n", "api", "2", "has no services: mapping"),
        ("services:\n  api:\n    image: [a\n", "api", "2", "docker-compose.yml:4:1: YAML syntax error"),
        ("services:\n  api:\n    image: a:1\n    image: a:2\n", "api", "2", "more than once (lines 3, 4)"),
    ],
)
async def test_refusals_are_clear_and_write_nothing(
    tmp_path: Path, text: str, service: str, tag: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(EditError) as err:
        plan_compose_edit(path, service, tag)
    assert message in str(err.value)
    outcome = await ComposeImageRunner().run(_step(service, tag), Ctx(tmp_path, tmp_path / "b"))
    assert outcome.status is StepStatus.FAILED and message in outcome.message
    assert path.read_text() == text


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(EditError, match="no such file"):
        plan_compose_edit(tmp_path / "docker-compose.yml", "api", "1")


@pytest.mark.skipif(shutil.which("docker") is None, reason="docker CLI not installed")
def test_docker_compose_reads_the_edited_file(tmp_path: Path) -> None:
    """Compose v2 itself agrees with the edit (``docker compose config`` needs no engine)."""
    path = _write(tmp_path)
    edit = plan_compose_edit(path, "api", "1.4.1")
    assert edit is not None
    edits.apply(edit, tmp_path / "b")
    result = subprocess.run(
        ["docker", "compose", "-f", str(path), "config", "--images"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "registry.local:5000/connectin/api:1.4.1" in result.stdout.split()


# --- property: for any compose file the editor accepts, only the tag changes ------------------

# The oracle reads the file with yaml.safe_load (YAML 1.1), which turns a key like `no` into
# False; the edit itself works on the text, so such names are left to the example tests.
_YAML11_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null"})
NAME = st.from_regex(r"[a-z][a-z0-9]{0,7}", fullmatch=True).filter(lambda n: n not in _YAML11_WORDS)
TAG = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,15}", fullmatch=True)
COMMENT = st.from_regex(r"#[ a-zA-Z0-9:'\"&*{}\[\],-]{0,20}", fullmatch=True)
REGISTRY = st.sampled_from(["", "registry.local:5000/", "ghcr.io/team/", "localhost:5000/a/b/"])


@st.composite
def image_lines(draw: st.DrawFn) -> tuple[str, str, str, str | None, str]:
    """(text before the name, name, quote, tag, text after) of one ``image:`` line."""
    name = draw(REGISTRY) + draw(NAME)
    tag = draw(st.none() | TAG)
    quote = draw(st.sampled_from(["", "'", '"']))
    space = draw(st.sampled_from([" ", "  "]))
    comment = f"  {draw(COMMENT)}" if draw(st.booleans()) else ""
    return f"    image:{space}{quote}", name, quote, tag, f"{quote}{comment}\n"


@st.composite
def compose_files(
    draw: st.DrawFn,
) -> tuple[list[str], list[tuple[str, str, str, str | None, str]], list[str]]:
    """Pieces of a compose file: text blocks around each service's image line."""
    names = draw(st.lists(NAME, min_size=1, max_size=4, unique=True))
    head = ""
    if draw(st.booleans()):
        head += draw(COMMENT) + "\n"
    if draw(st.booleans()):
        head += 'version: "3.8"\n'
    anchored = draw(st.booleans())
    if anchored:
        head += "x-common: &common\n  restart: unless-stopped  # shared\n"
    head += "services:\n"
    blocks, images = [head], []
    for name in names:
        extra = [
            '    ports:\n      - "8080:80"  # http\n',
            "    environment:\n      A: '1'\n",
            f"    {draw(COMMENT)}\n",
        ]
        if anchored:
            extra.append("    <<: *common\n")
        chosen = draw(st.lists(st.sampled_from(extra), unique=True))
        cut = draw(st.integers(0, len(chosen)))
        blocks[-1] += f"  {name}:\n" + "".join(chosen[:cut])
        images.append(draw(image_lines()))
        blocks.append("".join(chosen[cut:]))
    blocks[-1] += draw(st.sampled_from(["", "volumes:\n  data: {}\n", "# end\n"]))
    return blocks, images, names


def _join(blocks: list[str], images: list[tuple[str, str, str, str | None, str]]) -> str:
    text = blocks[0]
    for (lead, name, _quote, tag, tail), block in zip(images, blocks[1:], strict=True):
        text += lead + name + (f":{tag}" if tag is not None else "") + tail + block
    return text


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=compose_files(), choice=st.data())
def test_only_the_tag_changes(
    tmp_path: Path,
    data: tuple[list[str], list[tuple[str, str, str, str | None, str]], list[str]],
    choice: st.DataObject,
) -> None:
    blocks, images, names = data
    index = choice.draw(st.integers(0, len(names) - 1))
    new_tag = choice.draw(TAG)
    path = tmp_path / "docker-compose.yml"
    original = _join(blocks, images)
    path.write_text(original)
    edit = plan_compose_edit(path, names[index], new_tag)
    if images[index][3] == new_tag:
        assert edit is None
        return
    assert edit is not None
    wanted = list(images)
    lead, name, quote, _, tail = images[index]
    wanted[index] = (lead, name, quote, new_tag, tail)
    assert edit.after.decode() == _join(blocks, wanted)
    before, after = yaml.safe_load(original), yaml.safe_load(edit.after)
    assert after["services"][names[index]]["image"] == f"{name}:{new_tag}"
    after["services"][names[index]]["image"] = before["services"][names[index]]["image"]
    assert after == before


async def test_run_applies_the_confirmed_plan_and_refuses_it_when_the_file_changed(tmp_path: Path) -> None:
    path = _write(tmp_path)
    runner, step, ctx = ComposeImageRunner(), _step("api", "1.4.1"), Ctx(tmp_path, tmp_path / "b")
    assert runner.plan_edit(step, ctx) is not None
    changed = COMPOSE.replace("depends_on: [api]", "depends_on: [api, db]")
    path.write_text(changed)
    outcome = await runner.run(step, ctx)
    assert (
        outcome.status is StepStatus.FAILED and "changed on disk since the diff was shown" in outcome.message
    )
    assert path.read_text() == changed
    outcome = await runner.run(step, ctx)
    assert outcome.status is StepStatus.PASSED
    assert path.read_text() == changed.replace("api:1.4.2", "api:1.4.1")


def _compose(folder: Path, project: str, *args: str) -> None:
    result = subprocess.run(
        ["docker", "compose", "-p", project, *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _version_served(port: int, want: str, timeout: float = 15) -> str:
    deadline = time.monotonic() + timeout
    body = ""
    while time.monotonic() < deadline:
        try:
            body = (
                urllib.request.urlopen(f"http://127.0.0.1:{port}/version", timeout=1).read().decode().strip()
            )
            if body == want:
                break
        except OSError:
            pass
        time.sleep(0.1)
    return body


@pytest.mark.docker
async def test_a_compose_service_is_rolled_back_to_the_previous_tag(
    tmp_path: Path, docker_client: Any
) -> None:
    """The whole rollback: pin the previous tag, recreate the service with real Compose, check it."""
    repo = "rbt-test-compose-api"
    for version in ("1.0.0", "1.1.0"):
        build_test_image(docker_client, [f"{repo}:{version}"], version=version)
    port = free_port()
    project = f"rbt{uuid.uuid4().hex[:8]}"
    _write(
        tmp_path,
        f"# the api under test\nservices:\n  api:\n    image: {repo}:1.1.0  # bad release\n"
        f'    network_mode: host\n    environment:\n      PORT: "{port}"\n',
    )
    try:
        _compose(tmp_path, project, "up", "-d", "--quiet-pull")
        assert _version_served(port, "1.1.0") == "1.1.0"
        outcome = await ComposeImageRunner().run(_step("api", "1.0.0"), Ctx(tmp_path, tmp_path / "b"))
        assert outcome.status is StepStatus.PASSED, outcome.message
        _compose(tmp_path, project, "up", "-d", "--quiet-pull")
        assert _version_served(port, "1.0.0") == "1.0.0"
        state = docker_client.containers.get(f"{project}-api-1")
        assert state.attrs["Config"]["Image"] == f"{repo}:1.0.0"
    finally:
        _compose(tmp_path, project, "down", "--timeout", "1")


def test_a_service_named_like_a_yaml_11_boolean_is_found_by_its_text(tmp_path: Path) -> None:
    """Compose reads YAML 1.2, where `no` and `on` are names, not booleans; so does the edit."""
    path = tmp_path / "docker-compose.yml"
    path.write_text("services:\n  no:\n    image: web:1.0\n  on:\n    image: api:2\n")
    edit = plan_compose_edit(path, "no", "1.1")
    assert edit is not None
    assert edit.after.decode() == "services:\n  no:\n    image: web:1.1\n  on:\n    image: api:2\n"
