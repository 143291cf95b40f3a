#!/bin/busybox sh
# connectin-api (drill image): answers /health from /www/health.status and /www/health.json.
read -r method path proto
while read -r header; do case "$header" in ""|"$(printf '\r')") break;; esac; done
case "$path" in
  /health|/health\?*) status="$(cat /www/health.status)"; body="$(cat /www/health.json)" ;;
  /version) status="200 OK"; body="{\"version\":\"$(cat /www/VERSION)\"}" ;;
  *) status="404 Not Found"; body='{"error":"not found"}' ;;
esac
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) api $(cat /www/VERSION) $method $path -> $status" >&2
printf 'HTTP/1.0 %s\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
  "$status" "${#body}" "$body"
