# Shared by the drill's scripts: the sandbox's state and the deployed build's metrics.
: "${DRILL_STATE:?these scripts belong to a runbook-tui drill sandbox (DRILL_STATE is not set)}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BINARY="$ROOT/target/debug/connectias"
metric() { "$BINARY" --metrics | sed -n "s/^$1=//p"; }
fail() { echo "$(basename "$0"): $*" >&2; exit 1; }
[ -x "$BINARY" ] || fail "no build at $BINARY: run cargo build first"
