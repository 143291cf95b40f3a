#!/usr/bin/env bash
# Builds the Connectias world: signed release tags on a real history, a bare origin,
# v1.1.0 deployed and built with advanced fuel metering, a staged fix, an application log.
set -euo pipefail
gpg --batch --quiet --pinentry-mode loopback --passphrase '' \
  --quick-gen-key 'Connectias Release (drill) <release@connectias.invalid>' ed25519 sign never 2>/dev/null
key=$(gpg --batch --with-colons --list-secret-keys | awk -F: '/^fpr/ {print $10; exit}')

git init -q -b main .
git config user.signingkey "$key"
git init -q --bare "$DRILL_STATE/origin.git"
git remote add origin "$DRILL_STATE/origin.git"
cargo generate-lockfile --offline -q

release() { # release TAG CRATE-VERSION
  sed -i -E "0,/^version = .*/s//version = \"$2\"/" Cargo.toml
  cargo generate-lockfile --offline -q
  git add -A && git commit -q -m "Release $1"
  git tag -s "$1" -m "Connectias $1"
}
release v1.0.0 1.0.0
[ "$DRILL_FAULT" = missing-tag ] || release v1.0.0-secure 1.0.1
release v1.0.0-perf 1.0.2
release v1.1.0 1.1.0
git push -q origin main --tags

echo v1.1.0 >"$DRILL_STATE/deployed_version"
echo "7000 completed success deploy.yml v1.1.0 production $(date -u +%FT%TZ)" >"$DRILL_STATE/gh-runs.log"
mkdir -p "$DRILL_STATE/advisory-db" "$DRILL_STATE/logs"
for i in $(seq 1 40); do
  case $((i % 5)) in
    0) echo "2026-11-23T08:$((10 + i))Z ERROR fuel_exhausted plugin=fuel-gauge instructions=$((i * 1000))" ;;
    1) echo "2026-11-23T08:$((10 + i))Z ERROR plugin_timeout plugin=sync-agent after=30s" ;;
    *) echo "2026-11-23T08:$((10 + i))Z INFO plugin call ok" ;;
  esac
done >"$DRILL_STATE/logs/connectias.log"

cargo build -q # the deployed build: default features, advanced fuel metering on

# the fix someone prepared for the recovery procedure, staged and ready to commit
sed -i 's/^pub const MAX_FUEL_PER_CALL: u64 = 1_000_000;/pub const MAX_FUEL_PER_CALL: u64 = 500_000;/' src/lib.rs
printf '\n## Unreleased\n- Cap fuel per plugin call at 500k\n' >>CHANGELOG.md
git add src/lib.rs CHANGELOG.md
echo "connectias sandbox ready: signed tags $(git tag | tr '\n' ' ')(fault: ${DRILL_FAULT:-none})"
