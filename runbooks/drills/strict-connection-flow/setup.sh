#!/usr/bin/env bash
# Builds the Strict Connection Flow world: flag on, v2.6.0 deployed, app running, migration applied.
set -euo pipefail
printf '%s\n' strict-connection-flow.global=true strict-connection-flow.segment.beta=true \
  connection-pooling.global=true >"$DRILL_STATE/flags"
echo v2.6.0 >"$DRILL_STATE/deployed_version"
echo running >"$DRILL_STATE/app_state"
releases="v2.5.2 v2.5.3 v2.5.4 v2.6.0"
[ "$DRILL_FAULT" = missing-tag ] && releases="v2.5.2 v2.5.3 v2.6.0"
printf '%s\n' $releases >"$DRILL_STATE/releases"
: >"$DRILL_STATE/calls.log"
sqlite3 -bail "$DRILL_STATE/app.db" <<'SQL'
CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL);
CREATE TABLE migration_log (name TEXT, action TEXT, at TEXT);
CREATE TABLE connections (id INTEGER PRIMARY KEY, name TEXT NOT NULL, host TEXT NOT NULL, port INTEGER NOT NULL);
INSERT INTO connections (name, host, port) VALUES
  ('billing-db', 'db1.internal', 5432), ('search', 'es.internal', 9200), ('cache', 'redis.internal', 6379);
INSERT INTO schema_migrations VALUES ('initial', '2026-01-10T10:00:00Z');
-- the strict-connection-flow migration, as deployed with v2.6.0
ALTER TABLE connections ADD COLUMN strict_validated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE connections ADD COLUMN validation_schema TEXT;
CREATE TABLE connection_validation_rules (id INTEGER PRIMARY KEY, connection_id INTEGER, rule TEXT);
INSERT INTO connection_validation_rules (connection_id, rule) VALUES (1, 'port:range'), (2, 'host:fqdn');
UPDATE connections SET strict_validated = 1, validation_schema = 'v2';
INSERT INTO schema_migrations VALUES ('strict-connection-flow', '2026-03-01T12:00:00Z');
INSERT INTO migration_log VALUES ('strict-connection-flow', 'applied', '2026-03-01T12:00:00Z');
SQL
if [ "$DRILL_FAULT" = migration-halfway ]; then
  # A hotfix added an index on the new column; SQLite will not drop an indexed column.
  sqlite3 -bail "$DRILL_STATE/app.db" "CREATE INDEX idx_connections_strict ON connections(strict_validated)"
fi
if [ "$DRILL_FAULT" = hang ]; then
  echo "held by pipeline run #4812 (deploy v2.6.1 to production), started $(date -u +%H:%MZ)" >"$DRILL_STATE/deploy.lock"
fi
echo "strict-connection-flow sandbox ready (fault: ${DRILL_FAULT:-none})"
