#!/usr/bin/env bash
# The application's run state (drill sandbox): $DRILL_STATE/app_state is running or stopped.
set -euo pipefail
. "$(dirname "$0")/_drill.sh"
record "app.sh $*"
cmd="${1:-}"
mode() { if grep -qx 'strict-connection-flow.global=true' "$FLAGS"; then echo strict; else echo legacy; fi; }
case "$cmd" in
  stop)
    env=$(option environment "$@") || fail "missing --environment=NAME"
    echo "stopping $env: draining connections, refusing new writes"
    echo stopped >"$APP_STATE"
    echo "$env stopped"
    ;;
  start)
    env=$(option environment "$@") || fail "missing --environment=NAME"
    if "$(dirname "$0")/migrations.sh" half-applied >/dev/null 2>&1; then
      fail "refusing to start $env: the database is half rolled back. Finish the rollback first (./scripts/migrations.sh verify says what is left)."
    fi
    echo running >"$APP_STATE"
    echo "$env started (version $(cat "$DEPLOYED"), connection validation: $(mode))"
    ;;
  status) echo "$(cat "$APP_STATE"), version $(cat "$DEPLOYED"), connection validation: $(mode)" ;;
  *) fail "usage: app.sh stop|start --environment=NAME | status" ;;
esac
