#!/usr/bin/env bash
# Feature flag management (drill sandbox): flags live in $DRILL_STATE/flags as FLAG.SCOPE=true|false.
set -euo pipefail
. "$(dirname "$0")/_drill.sh"
record "feature-flags.sh $*"
usage="usage: feature-flags.sh enable|disable FLAG --scope=global|segment [--segment=NAME] | status [FLAG]"
cmd="${1:-}"; flag="${2:-}"
known() { grep -q "^$1\." "$FLAGS"; }
set_flag() { # set_flag KEY VALUE
  local tmp="$FLAGS.tmp"
  { grep -v "^$1=" "$FLAGS" || true; echo "$1=$2"; } | sort >"$tmp" && mv "$tmp" "$FLAGS"
}
case "$cmd" in
  enable|disable)
    [ -n "$flag" ] || fail "$usage"
    known "$flag" || fail "unknown flag '$flag'; known flags: $(cut -d. -f1 "$FLAGS" | sort -u | tr '\n' ' ')"
    value=$([ "$cmd" = enable ] && echo true || echo false)
    scope=$(option scope "$@") || fail "missing --scope=global|segment; $usage"
    case "$scope" in
      global) key="$flag.global" ;;
      segment) segment=$(option segment "$@") || fail "--scope=segment needs --segment=NAME"
               key="$flag.segment.$segment" ;;
      *) fail "unknown scope '$scope'; use --scope=global or --scope=segment --segment=NAME" ;;
    esac
    set_flag "$key" "$value"
    echo "$flag: ${cmd}d for $scope${segment:+ $segment} ($key=$value), effective immediately, no restart needed"
    ;;
  status|"")
    if [ -n "$flag" ]; then grep "^$flag\." "$FLAGS" || fail "unknown flag '$flag'"; else cat "$FLAGS"; fi
    ;;
  *) fail "$usage" ;;
esac
