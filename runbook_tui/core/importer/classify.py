"""What a heading, a paragraph or a block is: procedure, step group, alternative, step,
expected output, warning, window, label. Pure functions of the parsed Markdown."""

from __future__ import annotations

import re

from . import shell_blocks as sb
from .blocks import Block, Fence, ListBlock, Paragraph, Section
from .text import strip_md

_LABEL = re.compile(r"^\*\*(?P<label>[^*]+?):?\*\*:?\s*(?P<value>.*)$")
_INLINE_LABEL = re.compile(r"^(?P<label>[A-Z][A-Za-z /-]{1,30}):\s+(?P<value>.+)$")

WHEN = {"when to use", "use case", "when", "use when", "trigger"}
WINDOW = {
    "recovery time",
    "time",
    "rto",
    "rto target",
    "target",
    "target time",
    "duration",
    "expected time",
    "expected duration",
    "estimated time",
    "estimated duration",
    "time to recover",
    "time to restore",
    "recovery time objective",
    "eta",
}
SCOPE = {"scope", "impact"}
SYMPTOMS = {"symptoms", "signs", "indicators"}
STEPS = {"rollback steps", "steps", "procedure", "rollback process", "actions", "instructions"}
VERIFY = {"verification", "verify", "validation", "post-checks", "post checks", "checks after"}
PRECHECK = {"pre-checks", "prechecks", "prerequisites", "before you start", "pre-rollback checks"}
KNOWN_LABELS = WHEN | WINDOW | SCOPE | SYMPTOMS | STEPS | VERIFY | PRECHECK
TEMPLATE_LANGS = {"", "text", "txt", "plain", "plaintext", "md", "markdown", "email"}
CHECKLIST_WORDS = ("checklist", "tasks", "plan", "testing", "metrics", "monitor", "after", "todo", "follow")

_UNIT = r"(?:s|sec|secs|seconds?|m|min|mins|minutes?|h|hr|hrs|hours?)"
# "RTO < 5 min", "Target time under 10 minutes": a window stated without a colon.
WINDOW_SENTENCE = re.compile(
    r"^\W*(?:RTO|recovery time|target(?: time)?|estimated time)\s*(?:<|≤|<=|under|below)\s*"
    r"(\d+\s*" + _UNIT + r")\b",
    re.I,
)
# "## Restart the API (5 min)": a time in a procedure's heading.
HEADING_TIME = re.compile(
    r"\(\s*(?:~|about\s+|<\s*)?(\d+(?:\s*(?:-|–|to)\s*\d+)?\s*" + _UNIT + r")\s*\)\s*$", re.I
)
# Alternatives: "Option A", "Method 2", "Alternative 1", "Approach B".
OPTION = re.compile(r"^\W*(?:option|method|alternative|approach|choice)\s+([A-Z0-9]{1,3})\b", re.I)
OR = re.compile(r"^\W*(?:or|alternatively)\b[,:]?\s*(?P<rest>.*?)[:.]?\**$", re.I)
_STEP_HEADING = re.compile(r"^\W*(?:step\s+\d+|\d+[.)])", re.I)
EXPECTED = re.compile(r"^\W*(?:expected|example|sample)\s+(?:output|result|response)\b", re.I)
ANTI = re.compile(
    r"^\W*(?:don'?t|do not|never)\s+(?:do|run|use|try)\s+this\b"
    r"|^\W*(?:wrong|bad)(?:\s+example)?\s*:|^\W*anti-?pattern\b|^❌",
    re.I,
)

_COMMANDS = frozenset(
    [
        "kubectl",
        "oc",
        "helm",
        "docker",
        "podman",
        "git",
        "aws",
        "gcloud",
        "az",
        "redis-cli",
        "psql",
        "mysql",
        "mongo",
        "mongosh",
        "systemctl",
        "service",
        "journalctl",
        "curl",
        "wget",
        "ssh",
        "scp",
        "rsync",
        "terraform",
        "alembic",
        "npm",
        "npx",
        "yarn",
        "pnpm",
        "make",
        "cargo",
        "pg_restore",
        "pg_dump",
        "pg_ctl",
        "patronictl",
        "tail",
        "watch",
        "sudo",
        "kill",
        "pkill",
        "rm",
        "cp",
        "mv",
        "ls",
        "cat",
        "grep",
        "sed",
        "awk",
        "velero",
        "flux",
        "argocd",
        "vault",
        "consul",
        "nomad",
        "ansible",
        "ansible-playbook",
        "python",
        "python3",
        "bash",
        "sh",
        "export",
        "cd",
        "stern",
        "k9s",
        "istioctl",
    ]
)


# --- labels ------------------------------------------------------------------


def label(line: str) -> tuple[str, str]:
    """``**When to use**: x`` -> (``when to use``, ``x``); ("", line) when unlabelled."""
    match = _LABEL.match(line.strip())
    if match:
        return match.group("label").strip().rstrip(":").lower(), match.group("value").strip()
    match = _INLINE_LABEL.match(line.strip())
    if match and match.group("label").lower() in WINDOW | WHEN | SCOPE:
        return match.group("label").lower(), match.group("value").strip()
    return "", line


def target_for(name: str) -> str:
    """The list a labelled list goes to: symptoms, verification, prechecks or steps."""
    if name in SYMPTOMS:
        return "symptoms"
    if name in VERIFY:
        return "verification"
    if name in PRECHECK:
        return "prechecks"
    return "steps"


# --- blocks ------------------------------------------------------------------


def is_shell(fence: Fence) -> bool:
    """A fence of shell commands: typed as a shell, or untyped and looking like one."""
    return fence.lang in sb.SHELL_LANGS and (fence.lang != "" or is_shell_content(fence))


def is_shell_content(fence: Fence) -> bool:
    """An untyped fence holds commands when most of its lines look like commands."""
    lines = [ln.strip() for ln in fence.code.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines:
        return False
    commandish = sum(1 for ln in lines if re.match(r"^(\./|[a-z][\w.-]*(\s|$))", ln) and ":" not in ln[:12])
    return commandish / len(lines) >= 0.6 and not any(ln.isupper() for ln in lines)


def is_runnable_shell(fence: Fence) -> bool:
    """A shell fence that becomes steps (a whole script stays text)."""
    return is_shell(fence) and not sb.is_script(fence.code)


def is_cargo_toml(fence: Fence) -> bool:
    """A Cargo.toml ``[features]`` snippet setting ``default``."""
    return (
        fence.lang == "toml"
        and "[features]" in fence.code
        and re.search(r"^default\s*=", fence.code, re.M) is not None
    )


def inline_commands(text: str) -> list[str]:
    """Inline code spans of a list item that are commands (``kubectl ...``, ``./x.sh``)."""
    out = []
    for code in re.findall(r"`([^`\n]+)`", text):
        code = code.strip()
        first = code.split(" ", 1)[0]
        if " " in code and (first in _COMMANDS or first.startswith(("./", "/", "~/"))):
            out.append(code)
    return out


def is_step_block(block: Block) -> bool:
    """A block that holds steps: a shell or Cargo fence, or a list with those or inline commands."""
    if isinstance(block, Fence):
        return is_shell(block) or is_cargo_toml(block)
    if isinstance(block, ListBlock):
        return any(is_step_block(b) for item in block.items for b in item.blocks) or (
            block.ordered and any(inline_commands(item.text) for item in block.items)
        )
    return False


# --- sections ----------------------------------------------------------------


def is_container(sec: Section) -> bool:
    """A heading over procedures (``## Rollback Procedures``), not a procedure itself."""
    return (
        any(is_procedure(c) or is_container(c) for c in sec.children)
        and not own_window(sec)
        and not any(is_step_block(b) for b in sec.blocks)
        and not step_headings(sec)
    )


def step_headings(sec: Section) -> bool:
    """Children headed "Step N", "1.", "Option A" or "Method 2", all leaf step groups: one procedure."""
    groups = [c for c in sec.children if any(is_step_block(b) for b in c.blocks)]
    if len(groups) < 2 or any(c.children for c in groups):
        return False
    if all(OPTION.match(c.title) or re.match(r"^\W*step\s+\d+", c.title, re.I) for c in groups):
        return True
    # "### 1. Drain" over one command is a step; "### 1. Application Rollback" over a
    # block of several commented steps is a procedure of its own.
    return all(_STEP_HEADING.match(c.title) and _one_step(c) for c in groups)


def _one_step(sec: Section) -> bool:
    fences = [b for b in sec.blocks if isinstance(b, Fence)]
    return len(fences) == 1 and len(sb.split_groups(fences[0].code, 1)) <= 1


def is_procedure(sec: Section) -> bool:
    """Steps of its own, or a stated time window over steps, or sub-headings that are step groups."""
    if any(is_step_block(b) for b in sec.blocks):
        return True
    if own_window(sec) and has_steps(sec, deep=True):
        return True
    if step_headings(sec):
        return True
    step_groups = [c for c in sec.children if any(is_step_block(b) for b in c.blocks)]
    return sec.level >= 3 and bool(step_groups) and not any(c.children for c in step_groups)


def own_window(sec: Section) -> bool:
    """A recovery window in the heading or in a paragraph of its own."""
    return bool(HEADING_TIME.search(strip_md(sec.title))) or any(
        label(line)[0] in WINDOW or WINDOW_SENTENCE.match(line)
        for b in sec.blocks
        if isinstance(b, Paragraph)
        for line in b.text.splitlines()
    )


def has_steps(sec: Section, *, deep: bool) -> bool:
    """Step blocks in the section (or, when ``deep``, under it)."""
    if any(is_step_block(b) for b in sec.blocks):
        return True
    return deep and any(has_steps(c, deep=True) for c in sec.children)
