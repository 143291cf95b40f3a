#!/usr/bin/env bash
# Performance metrics of the running build; prints ALERT lines, exits 0 (it reports, it does not judge).
set -euo pipefail
. "$(dirname "$0")/_drill.sh"
cpu=$(metric cpu_percent); afm=$(metric advanced_fuel_metering)
[ "${DRILL_FAULT:-}" = health-still-failing ] && cpu=94
echo "deployed: $(cat "$DRILL_STATE/deployed_version")  build: $(metric version) (advanced_fuel_metering=$afm)"
echo "cpu: ${cpu}%   p99 plugin load: $((cpu * 23))ms   fuel/1k instructions: $(metric fuel_per_1k_instructions)"
if [ "$cpu" -gt 80 ]; then
  echo "ALERT: CPU above 80% (${cpu}%); plugin loads slow. Performance regression detected."
else
  echo "no performance alerts"
fi
