#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh machine (Python 3.11+, Debian, root or sudo).
# Installs the real components (Docker Engine, sshd on 127.0.0.2-4:2222), creates .venv,
# runs pytest, stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/components.sh install
state=$(bash scripts/components.sh start)
sshd_state=""
stop_started() {
  [ "$sshd_state" = STARTED ] && bash scripts/components.sh sshd-stop
  [ "$state" = STARTED ] && bash scripts/components.sh stop
  return 0
}
trap stop_started EXIT
sshd_state=$(bash scripts/components.sh sshd-start)
# Fleet tests reach the three loopback ssh hosts through this inventory.
export RBT_SSHD_INVENTORY=${RBT_SSHD_DIR:-/tmp/runbook-tui-sshd}/inventory.ini

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
# Every test, one xdist worker per core; tests that share a fixed resource keep to one worker
# (xdist_group, --dist loadgroup from pyproject.toml). RBT_TEST_WORKERS=0 runs them in one process.
.venv/bin/python -m pytest -n "${RBT_TEST_WORKERS:-auto}" "$@"
