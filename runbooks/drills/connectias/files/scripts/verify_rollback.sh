#!/usr/bin/env bash
# Verifies that the last deploy rolled back to a tag older than v1.1.0 and that it is healthy.
set -euo pipefail
: "${DRILL_STATE:?these scripts belong to a runbook-tui drill sandbox (DRILL_STATE is not set)}"
version=$(cat "$DRILL_STATE/deployed_version")
[ "$version" != v1.1.0 ] || { echo "still on v1.1.0: no rollback deployed (gh workflow run deploy.yml -f version_tag=...)" >&2; exit 1; }
"$(dirname "$0")/check_health.sh"
echo "rollback to $version verified"
