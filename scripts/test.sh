#!/usr/bin/env bash
# Set up and run the whole test suite on a fresh machine (Python 3.11+, Debian, root or sudo).
# Installs the real components, creates .venv, runs pytest, stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/components.sh install
state=$(bash scripts/components.sh start)
[ "$state" = STARTED ] && trap 'bash scripts/components.sh stop' EXIT

PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'

export DOCKER_API_VERSION=${DOCKER_API_VERSION:-1.41}
.venv/bin/python -m pytest "$@"
