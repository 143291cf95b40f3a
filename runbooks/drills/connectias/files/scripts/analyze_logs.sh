#!/usr/bin/env bash
# Root cause analysis helper: summarises the application log and the deploy history.
set -euo pipefail
: "${DRILL_STATE:?these scripts belong to a runbook-tui drill sandbox (DRILL_STATE is not set)}"
log="$DRILL_STATE/logs/connectias.log"
echo "log: $log ($(wc -l <"$log") lines)"
echo "errors by kind:"
grep -o 'ERROR [a-z_]*' "$log" | sort | uniq -c | sort -rn | sed 's/^/  /'
echo "first error: $(grep -m1 ERROR "$log")"
echo "deploys:"; sed 's/^/  /' "$DRILL_STATE/gh-runs.log" 2>/dev/null || echo "  none"
