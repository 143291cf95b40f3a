#!/usr/bin/env bash
# Health of the deployed version (the last deploy.yml run).
set -euo pipefail
: "${DRILL_STATE:?these scripts belong to a runbook-tui drill sandbox (DRILL_STATE is not set)}"
version=$(cat "$DRILL_STATE/deployed_version")
if [ "$version" = v1.1.0 ] || [ "${DRILL_FAULT:-}" = health-still-failing ]; then
  echo "$version: UNHEALTHY (plugin executions failing, fuel exhausted)" >&2; exit 1
fi
echo "$version: healthy"
