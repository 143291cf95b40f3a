#!/usr/bin/env bash
# Removes everything the ConnectIn drill made in the Docker Engine: the compose project
# (whatever compose file the working tree has now) and the images labelled with this sandbox.
set -u
[ -n "${DRILL_SIMULATED:-}" ] && exit 0 # simulated services are pid files: runbook-tui stops them
status=0
docker compose -p "$COMPOSE_PROJECT_NAME" down --remove-orphans --timeout 2 >/dev/null 2>&1 || status=1
left=$(docker ps -aq --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
[ -n "$left" ] && { docker rm -f $left >/dev/null || status=1; }
images=$(docker images -q --filter "label=runbook-tui.drill=$DRILL_ID" | sort -u)
[ -n "$images" ] && { docker rmi -f $images >/dev/null || status=1; }
exit $status
