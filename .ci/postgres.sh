# Sourced by .ci/run: creates a fresh PostgreSQL database for this run and exports its URL in
# PREPAID_TEST_DATABASE_URL. The machine's server listens on 127.0.0.1:5432 with trust auth.
# In CI (CI=true) an unreachable server fails the run; elsewhere the suite is skipped.
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
pg_db="prepaid_ci_$(date +%s)_$$"
# shellcheck source=/dev/null
. .ci/install.sh
command -v psql >/dev/null || install_debian postgresql-client || true
# The `postgres` database exists on every server (`test` only on some machines).
if pg_error="$(psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 -qc "CREATE DATABASE ${pg_db}" 2>&1 >/dev/null)"; then
  export PREPAID_TEST_DATABASE_URL="postgres://${PG_USER}@${PG_HOST}:${PG_PORT}/${pg_db}"
  echo "PostgreSQL: fresh database ${pg_db}"
  # Drop it when the run ends, whatever the outcome.
  trap 'psql -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -qc "DROP DATABASE IF EXISTS ${pg_db} WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL at ${PG_HOST}:${PG_PORT} is unusable, and CI=true requires it. psql said:" >&2
  echo "$pg_error" >&2
  exit 1
else
  echo "PostgreSQL unusable (psql said: ${pg_error}): its tests will say they were skipped"
fi
