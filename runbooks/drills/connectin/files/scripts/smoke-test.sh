#!/bin/sh
# Smoke tests on the critical paths: the api is healthy with its database, the front end loads.
fail=0
check() { # check NAME URL EXPECTED-TEXT
  body=$(curl -fsS --max-time 5 "$2" 2>&1) && case "$body" in *"$3"*) echo "ok   $1"; return;; esac
  echo "FAIL $1: $2 answered: $body"; fail=1
}
check "api health reports the database connected" http://localhost:5007/health '"database":"connected"'
check "front end serves the home page" http://localhost:3111/ '<title>ConnectIn</title>'
[ "$fail" = 0 ] && echo "smoke tests passed" || { echo "smoke tests FAILED: the rollback target is not healthy; check docker compose logs"; exit 1; }
