"""Parameters are data, never code: every injection probe, in every shell context, through real bash.

A shell step's command keeps ``{{x}}`` as a quoted reference to the environment variable
``x`` and the value travels in the environment, so the shell never reads a value as code.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from helpers.cli import cli_argv
from helpers.engine import Recorder, ScriptedAsker, runbook_from, write_runbook

from runbook_tui.core import events as ev
from runbook_tui.core.engine import Session
from runbook_tui.core.errors import ParameterError, RunbookLoadError
from runbook_tui.core.loader import load_runbook
from runbook_tui.core.params import render, render_url, shell_command

INJECT = "a;echo INJECTED"
EVIL = "v1; $(touch {canary}) `touch {canary}` \"x' \\ ${{HOME}} | touch {canary} ; rm -rf ~"


def _bash(command: str, values: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``command`` as the engine does: references in the text, values in the environment."""
    return subprocess.run(
        ["bash", "-c", render(command, values, shell=True)],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **values},
        cwd=cwd,
    )


# The contexts of issue 12 (finding 2), each with what bash must print.
CONTEXTS = [
    ("echo hi # don't\necho {{x}}", "hi\n{v}\n"),
    ('echo "$(echo {{x}})"', "{v}\n"),
    ('echo "`echo {{x}}`"', "{v}\n"),
    ("echo $'it\\'s' {{x}}", "it's {v}\n"),
    ("cat <<EOF\nsee {{x}} here\nEOF", "see {v} here\n"),
    ("cat <<-EOF\n\tsee {{x}}\n\tEOF\necho {{x}}", "see {v}\n{v}\n"),
    ('cat <<EOF\nit\'s "{{x}}"\nEOF\necho {{x}}', 'it\'s "{v}"\n{v}\n'),
    ('printf "%s\\n" "Rollback to {{x}}"', "Rollback to {v}\n"),
    ("printf '%s\\n' pre-{{x}}-post", "pre-{v}-post\n"),
    ('printf "%s\\n" "a\\"{{x}}"', 'a"{v}\n'),
    ("printf '%s\\n' \"it's {{x}}\"", "it's {v}\n"),
    ("echo ${UNSET_VAR:-{{x}}}", "{v}\n"),
    ('echo "${UNSET_VAR:-{{x}}}"', "{v}\n"),
    ('echo "$(echo "$(echo {{x}})")"', "{v}\n"),
    ('f() { echo "$1"; }; f {{x}}', "{v}\n"),
    ("case {{x}} in *) echo {{x}};; esac", "{v}\n"),
]


@pytest.mark.parametrize(("command", "expected"), CONTEXTS)
@pytest.mark.parametrize("raw", [INJECT, EVIL, "*", "a  b\tc", "$(id)", "`id`", "x|y"])
def test_no_value_runs_in_any_context(tmp_path: Path, command: str, expected: str, raw: str) -> None:
    canary = tmp_path / "pwned"
    value = raw.format(canary=canary)
    (tmp_path / "file-a").touch()  # something a glob would find
    done = _bash(command, {"x": value}, cwd=tmp_path)
    assert "INJECTED" not in done.stdout.replace(value, "")
    assert done.stdout == expected.format(v=value), done.stderr
    assert not canary.exists()


def test_the_issue_probe_does_not_print_injected(tmp_path: Path) -> None:
    done = _bash("echo hi # don't\necho {{x}}", {"x": INJECT})
    assert done.stdout == f"hi\n{INJECT}\n"


def test_a_star_value_does_not_glob_rm(tmp_path: Path) -> None:
    releases = tmp_path / "releases"
    for name in ("v1", "v2", "v3"):
        (releases / name).mkdir(parents=True)
    done = _bash("rm -rf releases/{{release}}", {"release": "*"}, cwd=tmp_path)
    assert done.returncode == 0
    assert sorted(p.name for p in releases.iterdir()) == ["v1", "v2", "v3"]


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ("echo '{{x}}'", "single quotes"),
        ("echo 'a {{x}} b'", "single quotes"),
        ("echo $'{{x}}'", "$'...'"),
        ("cat <<'EOF'\n{{x}}\nEOF", "quoted here-document"),
        ('cat <<"EOF"\n{{x}}\nEOF', "quoted here-document"),
        ("cat <<\\EOF\n{{x}}\nEOF", "quoted here-document"),
        ("echo $(( {{x}} + 1 ))", "arithmetic"),
        ("(( {{x}} > 2 )) && echo big", "arithmetic"),
        ("echo ${arr[{{x}}]}", "arithmetic"),
    ],
)
def test_a_placeholder_where_nothing_expands_is_refused(command: str, why: str) -> None:
    with pytest.raises(ParameterError, match=None) as info:
        shell_command(command)
    assert why in str(info.value)


def test_go_templates_and_github_expressions_are_not_placeholders() -> None:
    text = "docker images x --format '{{.Tag}}' ${{ github.sha }}"
    assert shell_command(text) == text


def test_plain_text_and_display_get_the_value() -> None:
    assert render("rm -rf releases/{{r}}", {"r": "*"}) == "rm -rf releases/*"


def test_references_are_quoted_for_their_context() -> None:
    assert shell_command("echo {{x}}") == 'echo "${x}"'
    assert shell_command('echo "a {{x}}"') == 'echo "a ${x}"'
    assert shell_command("cat <<EOF\n{{x}}\nEOF") == "cat <<EOF\n${x}\nEOF"
    assert shell_command('echo "$(echo {{x}})"') == 'echo "$(echo "${x}")"'


# --- through the loader: the same refusals are load errors with file:line:col ----------------

LITERAL_RUNBOOK = """
runbook: 1
id: lit
title: Literal
parameters:
  - name: x
procedures:
  - id: main
    title: Main
    steps:
      - id: a
        title: A
        kind: shell
        command: |
          echo ok
          echo 'value {{x}}'
"""


def test_a_placeholder_in_single_quotes_is_a_load_error_with_its_place(tmp_path: Path) -> None:
    path = write_runbook(tmp_path, LITERAL_RUNBOOK)
    with pytest.raises(RunbookLoadError) as info:
        load_runbook(path)
    problems = info.value.problems
    assert len(problems) == 1
    where = problems[0].location
    assert (where.line, where.column) == (15, 23)
    assert "single quotes" in problems[0].message
    assert "close the quotes" in problems[0].message


@pytest.mark.parametrize("name", ["PATH", "IFS", "HOME", "BASH_ENV", "LD_PRELOAD", "RUNBOOK_TUI_X", "PS4"])
def test_reserved_parameter_names_are_refused_at_load(tmp_path: Path, name: str) -> None:
    text = LITERAL_RUNBOOK.replace("name: x", f"name: {name}").replace("'value {{x}}'", "done")
    with pytest.raises(RunbookLoadError) as info:
        load_runbook(write_runbook(tmp_path, text))
    assert any(name in p.message and "reserved" in p.message for p in info.value.problems)


def test_a_step_env_key_that_is_a_parameter_name_is_refused(tmp_path: Path) -> None:
    text = LITERAL_RUNBOOK.replace("'value {{x}}'", "$x").replace(
        "        kind: shell\n", "        kind: shell\n        env:\n          x: other\n"
    )
    with pytest.raises(RunbookLoadError) as info:
        load_runbook(write_runbook(tmp_path, text))
    assert any("'x'" in p.message and "parameter" in p.message for p in info.value.problems)


# --- through the engine: values in the environment, the journal shows them for reading ---------

ENGINE_RUNBOOK = """
runbook: 1
id: inject
title: Inject
parameters:
  - name: x
  - name: release
procedures:
  - id: main
    title: Main
    steps:
      - id: probe
        title: Probe {{x}}
        kind: shell
        command: |
          echo hi # don't
          echo {{x}}
          echo "$(echo {{x}})" "`echo {{x}}`" $'it\\'s' {{x}}
          echo "dollar $x braces ${x}"
      - id: drop
        title: Drop release {{release}}
        kind: shell
        command: rm -rf releases/{{release}}
"""


async def test_the_engine_runs_references_and_journals_values(tmp_path: Path) -> None:
    for name in ("v1", "v2"):
        (tmp_path / "releases" / name).mkdir(parents=True)
    runbook = runbook_from(tmp_path, ENGINE_RUNBOOK)
    session = Session(
        runbook,
        "main",
        workdir=tmp_path,
        ask=ScriptedAsker(),  # type: ignore[arg-type]
        params={"x": INJECT, "release": "*"},
    )
    rec = Recorder()
    session.subscribe(rec)
    await session.start()
    assert await session.run_all()
    out = [e.text for e in rec.output("probe")]
    assert out == ["hi", INJECT, f"{INJECT} {INJECT} it's {INJECT}", f"dollar {INJECT} braces {INJECT}"]
    assert sorted(p.name for p in (tmp_path / "releases").iterdir()) == ["v1", "v2"]
    started = {e.step_id: e for e in rec.of(ev.StepStarted)}
    assert isinstance(started["drop"], ev.StepStarted)
    assert started["drop"].command == "run: rm -rf releases/*"  # shown for reading
    assert started["drop"].title == "Drop release *"
    await session.finish()


async def test_a_parameter_read_only_as_a_variable_is_asked_for(tmp_path: Path) -> None:
    text = """
    runbook: 1
    id: envonly
    title: Env only
    parameters:
      - name: namespace
    procedures:
      - id: main
        title: Main
        steps:
          - id: a
            title: A
            kind: shell
            command: echo "ns=$namespace"
    """
    runbook = runbook_from(tmp_path, text)
    asker = ScriptedAsker(params={"namespace": "prod"})
    session = Session(runbook, "main", workdir=tmp_path, ask=asker)  # type: ignore[arg-type]
    rec = Recorder()
    session.subscribe(rec)
    await session.start()
    assert await session.run_all()
    assert [e.text for e in rec.output("a")] == ["ns=prod"]
    await session.finish()


# --- outside shell ------------------------------------------------------------------------------


def test_url_values_cannot_move_the_request_to_another_host() -> None:
    url = render_url("http://host:8080/api/{{x}}?q={{y}}", {"x": "@evil.com/", "y": "a&b=c#d"})
    assert url == "http://host:8080/api/%40evil.com%2F?q=a%26b%3Dc%23d"
    import httpx

    assert httpx.URL(url).host == "host"
    assert httpx.URL(url).port == 8080


def test_a_url_that_starts_with_a_parameter_takes_it_as_written() -> None:
    url = render_url("{{base_url}}/health/{{x}}", {"base_url": "http://127.0.0.1:9000", "x": "a/b"})
    assert url == "http://127.0.0.1:9000/health/a%2Fb"


# --- through Markdown import: the importer's output runs with the value as data ------------------

MARKDOWN = """# Release rollback

## Steps

1. Remove the bad release:

   ```bash
   rm -rf releases/<release>
   ```
"""


RELEASE_STAR = ("--param", "release=*")


def test_an_imported_rm_with_a_star_release_deletes_nothing_else(tmp_path: Path) -> None:

    (tmp_path / "rb.md").write_text(MARKDOWN)
    imported = tmp_path / "rb.yaml"
    cli = cli_argv()
    done = subprocess.run(
        [*cli, "import", str(tmp_path / "rb.md"), "-o", str(imported)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "{{release}}" in imported.read_text()  # what the importer produces for <release>
    work = tmp_path / "work"
    for name in ("v1", "v2", "v3"):
        (work / "releases" / name).mkdir(parents=True)
    procedure = load_runbook(imported).procedures[0].id
    done = subprocess.run(
        [
            *cli,
            "run",
            str(imported),
            procedure,
            "--plain",
            "--yes",
            "--workdir",
            str(work),
            "--param",
            "release=*",
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert sorted(p.name for p in (work / "releases").iterdir()) == ["v1", "v2", "v3"], done.stdout
    # The importer's safe default pattern refuses a glob before anything runs; the engine
    # side (a `*` value arriving as text) is covered by the YAML tests above.
    assert done.returncode == 2, done.stdout
    assert "'release'" in done.stderr and "does not match" in done.stderr, done.stderr


GIT_RUNBOOK = """
runbook: 1
id: gittag
title: Git tag
parameters:
  - name: tag
procedures:
  - id: main
    title: Main
    steps:
      - id: t
        title: Tag {{tag}}
        kind: git
        action: tag
        tag: "{{tag}}"
        message: "Rollback to {{tag}}"
"""


@pytest.mark.parametrize("value", ["v1;touch pwned", "$(touch pwned)", "--upload-pack=touch pwned", "v1 v2"])
async def test_a_git_tag_from_a_parameter_stays_one_argument(tmp_path: Path, value: str) -> None:
    import os

    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=tmp_path, env=env, check=True)
    runbook = runbook_from(tmp_path, GIT_RUNBOOK)
    session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), params={"tag": value}, env=env)  # type: ignore[arg-type]
    await session.start()
    assert not await session.run_all()  # refused as a tag name, not run as anything
    assert not (tmp_path / "pwned").exists()
    tags = subprocess.run(["git", "tag"], cwd=tmp_path, capture_output=True, text=True).stdout
    assert tags == ""
    await session.finish()


HTTP_RUNBOOK = """
runbook: 1
id: httpurl
title: HTTP URL
parameters:
  - name: x
procedures:
  - id: main
    title: Main
    steps:
      - id: h
        title: H
        kind: http
        url: "http://127.0.0.1:{port}/api/{{{{x}}}}"
        expect_status: 200
"""


async def test_an_http_step_stays_on_its_host_whatever_the_value(tmp_path: Path) -> None:
    from helpers.httpserver import LoopbackServer, Reply

    with LoopbackServer() as server:
        server.route("/api/%40evil.com%2F", Reply(200))
        runbook = runbook_from(tmp_path, HTTP_RUNBOOK.format(port=server.port))
        session = Session(runbook, "main", workdir=tmp_path, ask=ScriptedAsker(), params={"x": "@evil.com/"})  # type: ignore[arg-type]
        await session.start()
        assert await session.run_all()
        await session.finish()
        assert [r.path for r in server.requests] == ["/api/%40evil.com%2F"]
