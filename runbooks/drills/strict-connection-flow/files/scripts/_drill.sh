# Shared by the drill's scripts: where the sandbox keeps its state.
: "${DRILL_STATE:?these scripts belong to a runbook-tui drill sandbox (DRILL_STATE is not set)}"
FLAGS="$DRILL_STATE/flags"
DB="$DRILL_STATE/app.db"
DEPLOYED="$DRILL_STATE/deployed_version"
RELEASES="$DRILL_STATE/releases"
APP_STATE="$DRILL_STATE/app_state"
LOCK="$DRILL_STATE/deploy.lock"
CALLS="$DRILL_STATE/calls.log"
HANG_SECONDS="${DRILL_HANG_SECONDS:-900}"

record() { printf '%s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$CALLS"; }
fail() { echo "$(basename "$0"): $*" >&2; exit 1; }
option() { # option NAME "$@" -> the value of --NAME=VALUE
  local name="$1"; shift
  for arg in "$@"; do case "$arg" in --"$name"=*) echo "${arg#*=}"; return 0;; esac; done
  return 1
}
sql() { sqlite3 -bail "$DB" "$@"; }
