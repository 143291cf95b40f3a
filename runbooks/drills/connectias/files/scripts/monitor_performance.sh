#!/usr/bin/env bash
# Verifies performance after a rollback by reading the freshly built binary; exit 1 while it is still bad.
set -euo pipefail
. "$(dirname "$0")/_drill.sh"
afm=$(metric advanced_fuel_metering); cpu=$(metric cpu_percent)
[ "${DRILL_FAULT:-}" = health-still-failing ] && cpu=94
for sample in 1 2 3; do echo "sample $sample: cpu ${cpu}%, memory steady, advanced_fuel_metering=$afm"; done
if [ "$afm" = on ]; then
  fail "CPU still ${cpu}%: the build still has advanced_fuel_metering compiled in. Remove it from [features] default in Cargo.toml and run cargo build --no-default-features."
fi
if [ "$cpu" -gt 80 ]; then
  fail "CPU still ${cpu}% with advanced_fuel_metering off: the regression is not the feature. Roll back the release instead (Git Tag Rollback to v1.0.0-perf) and escalate."
fi
echo "performance recovered: cpu ${cpu}% (was 92% with advanced_fuel_metering on)"
