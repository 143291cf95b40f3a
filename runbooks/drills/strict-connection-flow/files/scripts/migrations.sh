#!/usr/bin/env bash
# Database migrations (drill sandbox) over the SQLite database $DRILL_STATE/app.db.
# A rollback runs its statements one by one, like the real script: a failure half way
# leaves a half rolled back schema, and running it again resumes where it stopped.
set -euo pipefail
. "$(dirname "$0")/_drill.sh"
record "migrations.sh $*"
cmd="${1:-}"
MIGRATION=strict-connection-flow
has_column() { [ "$(sql "SELECT count(*) FROM pragma_table_info('connections') WHERE name='$1'")" = 1 ]; }
has_table() { [ "$(sql "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='$1'")" = 1 ]; }
recorded() { [ "$(sql "SELECT count(*) FROM schema_migrations WHERE name='$MIGRATION'")" = 1 ]; }
leftovers() { # what of the migration is still in the schema, one item per line
  has_table connection_validation_rules && echo "table connection_validation_rules"
  has_column validation_schema && echo "column connections.validation_schema"
  has_column strict_validated && echo "column connections.strict_validated"
  recorded && echo "row schema_migrations($MIGRATION)"
  return 0
}
STEPS=(
  "DROP TABLE IF EXISTS connection_validation_rules"
  "ALTER TABLE connections DROP COLUMN validation_schema"
  "ALTER TABLE connections DROP COLUMN strict_validated"
  "DELETE FROM schema_migrations WHERE name='$MIGRATION'"
)
step_done() { # step_done INDEX -> whether that statement's effect is already there
  case "$1" in
    0) ! has_table connection_validation_rules ;;
    1) ! has_column validation_schema ;;
    2) ! has_column strict_validated ;;
    3) ! recorded ;;
  esac
}
case "$cmd" in
  rollback)
    name=$(option migration "$@") || fail "missing --migration=NAME"
    [ "$name" = "$MIGRATION" ] || fail "unknown migration '$name'; applied: $(sql 'SELECT name FROM schema_migrations' | tr '\n' ' ')"
    [ "$(cat "$APP_STATE")" = stopped ] || fail "the application is running and would keep writing: stop it first (./scripts/app.sh stop --environment=production)"
    [ -n "$(leftovers)" ] || { echo "$MIGRATION is already rolled back; nothing to do"; exit 0; }
    cp "$DB" "$DRILL_STATE/app.db.before-rollback"
    total=${#STEPS[@]}
    for i in "${!STEPS[@]}"; do
      n=$((i + 1))
      if step_done "$i"; then echo "[$n/$total] already done: ${STEPS[$i]}"; continue; fi
      echo "[$n/$total] ${STEPS[$i]}"
      if ! err=$(sql "${STEPS[$i]}" 2>&1); then
        echo "$err" >&2
        fail "rollback of $MIGRATION stopped at step $n of $total (${STEPS[$i]}). Steps before it were applied: the database is half rolled back. Keep the application stopped. Run ./scripts/migrations.sh verify to see what is left; if a leftover index blocks the column drop, ./scripts/migrations.sh repair --migration=$MIGRATION drops it; then run the rollback again (it resumes where it stopped). Backup: $DRILL_STATE/app.db.before-rollback"
      fi
    done
    sql "INSERT INTO migration_log(name, action, at) VALUES ('$MIGRATION', 'rolled back', datetime('now'))"
    echo "$MIGRATION rolled back ($total steps)"
    ;;
  repair)
    name=$(option migration "$@") || fail "missing --migration=NAME"
    [ "$name" = "$MIGRATION" ] || fail "unknown migration '$name'"
    for idx in $(sql "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='connections' AND sql LIKE '%strict_validated%'"); do
      sql "DROP INDEX $idx"; echo "dropped leftover index $idx"
    done
    echo "repair done; now run ./scripts/migrations.sh rollback --migration=$MIGRATION"
    ;;
  verify)
    left=$(leftovers)
    rows=$(sql "SELECT count(*) FROM connections")
    if [ -n "$left" ]; then
      echo "$MIGRATION is NOT rolled back; still present:"; echo "$left" | sed 's/^/  /'
      fail "verification failed: run ./scripts/migrations.sh rollback --migration=$MIGRATION"
    fi
    integrity=$(sql "PRAGMA integrity_check")
    [ "$integrity" = ok ] || fail "integrity check failed: $integrity"
    echo "schema_migrations: $(sql "SELECT group_concat(name, ', ') FROM schema_migrations")"
    echo "migration_log: $(sql "SELECT name || ' ' || action FROM migration_log ORDER BY rowid DESC LIMIT 1")"
    echo "OK: $MIGRATION is rolled back; $rows connections intact; integrity ok"
    ;;
  half-applied) # exit 0 when some but not all of the migration is left
    left=$(leftovers); [ -n "$left" ] && [ "$(echo "$left" | wc -l)" -lt 4 ] ;;
  status) sql "SELECT name, applied_at FROM schema_migrations ORDER BY applied_at" ;;
  *) fail "usage: migrations.sh rollback --migration=NAME | repair --migration=NAME | verify | status" ;;
esac
