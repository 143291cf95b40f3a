#!/usr/bin/env bash
# Deployments (drill sandbox): the release registry, the deployed version and the deploy lock.
set -euo pipefail
. "$(dirname "$0")/_drill.sh"
record "deploy.sh $*"
cmd="${1:-}"
healthy() { [ "$(cat "$DEPLOYED")" != "v2.6.0" ] && [ "${DRILL_FAULT:-}" != health-still-failing ]; }
wait_for_lock() {
  [ -e "$LOCK" ] || return 0
  echo "waiting for the deploy lock: $(cat "$LOCK")"
  local waited=0
  while [ -e "$LOCK" ]; do
    if [ "$waited" -ge "$HANG_SECONDS" ]; then
      fail "gave up after ${waited}s: the deploy lock is still held ($(cat "$LOCK")). If that pipeline is dead, cancel this step, run ./scripts/deploy.sh unlock, then retry the rollback."
    fi
    sleep 1; waited=$((waited + 1))
  done
  echo "deploy lock released; continuing"
}
case "$cmd" in
  rollback)
    env=$(option environment "$@") || fail "missing --environment=NAME"
    version=$(option version "$@") || fail "missing --version=vX.Y.Z (./scripts/deploy.sh list shows the releases)"
    if ! grep -qx "$version" "$RELEASES"; then
      fail "version $version is not in the release registry (it may have been pruned). Releases: $(sort -rV "$RELEASES" | tr '\n' ' ')- pick the last stable one before $(cat "$DEPLOYED") (./scripts/deploy.sh list) and rerun with --version=<that>"
    fi
    wait_for_lock
    echo "rolling back $env from $(cat "$DEPLOYED") to $version"
    for phase in "pulling artifact $version" "draining traffic" "switching instances" "warming up"; do
      echo "  $phase ..."
    done
    echo "$version" >"$DEPLOYED"
    echo "$(date -u +%FT%TZ) $env $version rollback" >>"$DRILL_STATE/deploy.log"
    echo "deployed $version to $env"
    ;;
  status)
    version=$(cat "$DEPLOYED")
    echo "environment: production"
    echo "version: $version"
    if healthy; then
      echo "health: passing (5/5 instances healthy)"
    else
      echo "health: FAILING (5/5 instances returning 500 on /connections)"
      if [ "$version" = v2.6.0 ]; then
        fail "v2.6.0 is the release under rollback: run ./scripts/deploy.sh rollback --environment=production --version=<last stable>"
      fi
      fail "the rollback did not fix it: $version fails the same way, so the cause predates it (data or config). Escalate to the Lead Engineer and consider the Database Rollback procedure."
    fi
    ;;
  list) sort -rV "$RELEASES" ;;
  unlock) rm -f "$LOCK"; echo "deploy lock removed" ;;
  *) fail "usage: deploy.sh rollback --environment=NAME --version=vX.Y.Z | status | list | unlock" ;;
esac
