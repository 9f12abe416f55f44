#!/usr/bin/env bash
# Measures the service against its three ceilings on this machine, in one run, and writes
# docs/PERFORMANCE.md and docs/perf-concurrency.svg. Usage: bash scripts/perf.sh [seconds]
# (SUSTAINED_SECONDS sets the length of the sustained memory run, 310 by default).
# Needs: the Rust toolchain, python3; PostgreSQL on 127.0.0.1:5432 for the PostgreSQL figures.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-5}"
OUT="$(mktemp -d)"
# PERF_KEEP=1 keeps the raw results (JSON, timelines, profiles) in $OUT.
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${PERF_KEEP:-}" ] || rm -rf "$OUT"' EXIT

cargo build --release --locked -p prepaid-bootstrap -p prepaid-tools >/dev/null
BIN="$(pwd)/target/release/prepaid-card-service"
TOOLS="$(pwd)/target/release/prepaid-tools"
echo "results in $OUT"

# shellcheck source=scripts/service.sh
. scripts/service.sh

loadgen() { "$TOOLS" loadgen --json --duration "$SECONDS_PER_RUN" "$@"; }

echo "== machine"
{
  echo "{\"cpu\": \"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)\", \"cores\": $(nproc), \"memoryGiB\": $(free -g | awk '/Mem:/{print $2}'), \"kernel\": \"$(uname -r)\", \"rustc\": \"$(rustc --version)\", \"date\": \"$(date -u +%Y-%m-%dT%H:%MZ)\", \"commit\": \"$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!docs' || echo +changes)\"}"
} >"$OUT/machine.json"

echo "== ceilings: crypto, database"
"$TOOLS" bench rsa --duration "$SECONDS_PER_RUN" >"$OUT/ceiling-rsa.json"
(cd "$OUT" && "$TOOLS" bench database --duration "$SECONDS_PER_RUN" --database-url "$OUT/bench.sqlite3") >"$OUT/ceiling-db-sqlite.json"
PG_OK=0
if psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE prepaid_perf_$$" >/dev/null 2>&1; then
  PG_OK=1
  PG_URL="postgres://postgres@127.0.0.1:5432/prepaid_perf_$$"
  "$TOOLS" bench database --duration "$SECONDS_PER_RUN" --database-url "$PG_URL" --concurrency 8 >"$OUT/ceiling-db-postgres.json"
fi

echo "== ceiling: HTTP echo"
mkdir -p "$OUT/sandbox"
start_service "$OUT/sandbox"
SANDBOX_PORT=$PORT; SANDBOX_PID=$PID; echo "{\"readyMs\": $READY_MS}" >"$OUT/startup-first.json"
"$TOOLS" bench echo-server --listen 127.0.0.1:0 >"$OUT/echo.out" 2>/dev/null &
ECHO_PID=$!
sleep 0.5
ECHO_URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$OUT/echo.out" | head -1)
export PREPAID_DATA_DIR="$OUT/sandbox"
loadgen --url "$ECHO_URL" --concurrency 64 --server-pid "$ECHO_PID" >"$OUT/ceiling-http.json"
kill "$ECHO_PID"

echo "== service on SQLite (synchronous=FULL), by concurrency"
for c in 1 4 16 64 128; do
  loadgen --url "http://127.0.0.1:$SANDBOX_PORT" --concurrency "$c" --server-pid "$SANDBOX_PID" >"$OUT/plain-c$c.json"
  loadgen --url "http://127.0.0.1:$SANDBOX_PORT" --concurrency "$c" --encrypt --server-pid "$SANDBOX_PID" >"$OUT/enc-c$c.json"
done
python3 scripts/perf_report.py half-rates "$OUT" >"$OUT/half-rates.env"
. "$OUT/half-rates.env"
# The service's own latency histogram before and after each half-load run: what the server
# measured, apart from the generator and the kernel's queues.
metrics() { curl -sf "http://127.0.0.1:$SANDBOX_PORT/metrics" | grep 'request_duration_seconds_bucket{route="/api' || true; }
# Each half-load run three times: its tail varies from run to run on a shared 2-core machine.
metrics >"$OUT/plain-half.metrics-before"
for round in 1 2 3; do
  loadgen --url "http://127.0.0.1:$SANDBOX_PORT" --concurrency 64 --rate "$PLAIN_HALF" --server-pid "$SANDBOX_PID" --timeline "$OUT/plain-half-$round.csv" >"$OUT/plain-half-$round.json"
done
metrics >"$OUT/plain-half.metrics-after"
# A fourth plaintext round, not counted, with every fsync of the service timed by the kernel's
# syscall tracepoints: how long the durable commits and the checkpoints wait for the disk.
if command -v perf >/dev/null 2>&1 && perf list 2>/dev/null | grep 'syscalls:sys_enter_fsync' >/dev/null; then
  perf record -e syscalls:sys_enter_fsync,syscalls:sys_exit_fsync -p "$SANDBOX_PID" -o "$OUT/fsync.data" \
    -- sleep "$((SECONDS_PER_RUN + 1))" >/dev/null 2>&1 &
  FSYNC_PID=$!
  loadgen --url "http://127.0.0.1:$SANDBOX_PORT" --concurrency 64 --rate "$PLAIN_HALF" --server-pid "$SANDBOX_PID" >"$OUT/plain-half-traced.json"
  wait "$FSYNC_PID" || true
  perf script -i "$OUT/fsync.data" -F comm,tid,time,event 2>/dev/null >"$OUT/fsync.txt" || true
  rm -f "$OUT/fsync.data"
fi
metrics >"$OUT/enc-half.metrics-before"
for round in 1 2 3; do
  loadgen --url "http://127.0.0.1:$SANDBOX_PORT" --concurrency 64 --rate "$ENC_HALF" --encrypt --server-pid "$SANDBOX_PID" --timeline "$OUT/enc-half-$round.csv" >"$OUT/enc-half-$round.json"
done
metrics >"$OUT/enc-half.metrics-after"
if command -v perf >/dev/null 2>&1 && perf stat -e task-clock true >/dev/null 2>&1; then
  for kind in enc plain; do
    echo "== profile of the service under $kind load (perf, DWARF call graphs)"
    flag=""; [ "$kind" = enc ] && flag="--encrypt"
    perf record -F 499 --call-graph dwarf,16384 -p "$SANDBOX_PID" -o "$OUT/perf-$kind.data" -- sleep "$SECONDS_PER_RUN" >/dev/null 2>&1 &
    PERF_PID=$!
    loadgen --url "http://127.0.0.1:$SANDBOX_PORT" --concurrency 64 $flag --warmup 0 --server-pid "$SANDBOX_PID" >"$OUT/$kind-profiled.json"
    wait "$PERF_PID" || true
    perf report -i "$OUT/perf-$kind.data" --no-children --sort comm --stdio -g none 2>/dev/null | grep '%' >"$OUT/profile-$kind-threads.txt" || true
    perf report -i "$OUT/perf-$kind.data" --children --sort symbol --stdio -g none --percent-limit 0.2 2>/dev/null | grep '%' >"$OUT/profile-$kind-children.txt" || true
    rm -f "$OUT/perf-$kind.data"
  done
fi
kill "$SANDBOX_PID" || true; wait "$SANDBOX_PID" 2>/dev/null || true
start_service "$OUT/sandbox"
echo "{\"readyMs\": $READY_MS}" >"$OUT/startup-second.json"
kill "$PID" || true; wait "$PID" 2>/dev/null || true

if [ "$PG_OK" = 1 ]; then
  echo "== service on PostgreSQL: one and two instances"
  mkdir -p "$OUT/pg"
  start_service "$OUT/pg" PREPAID_DATABASE_URL="$PG_URL"
  PG1_PORT=$PORT; PG1_PID=$PID
  PGCRED="$OUT/pg/sandbox-credentials.json"
  loadgen --credentials "$PGCRED" --url "http://127.0.0.1:$PG1_PORT" --concurrency 64 --server-pid "$PG1_PID" >"$OUT/pg-one.json"
  start_service "$OUT/pg" PREPAID_DATABASE_URL="$PG_URL" PREPAID_WORKERS=1
  PG2_PORT=$PORT; PG2_PID=$PID
  loadgen --credentials "$PGCRED" --url "http://127.0.0.1:$PG1_PORT" --concurrency 32 --threads 1 --server-pid "$PG1_PID" >"$OUT/pg-two-a.json" &
  LOADGEN_PID=$!
  loadgen --credentials "$PGCRED" --url "http://127.0.0.1:$PG2_PORT" --concurrency 32 --threads 1 --server-pid "$PG2_PID" >"$OUT/pg-two-b.json"
  wait "$LOADGEN_PID"
  kill "$PG1_PID" "$PG2_PID" 2>/dev/null || true; wait "$PG1_PID" "$PG2_PID" 2>/dev/null || true
  psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE IF EXISTS prepaid_perf_$$ WITH (FORCE)" >/dev/null 2>&1 || true
fi

echo "== sustained full load for one replay window (peak memory: the replay guard holds every token of the window)"
SUSTAINED_SECONDS="${SUSTAINED_SECONDS:-310}"
mkdir -p "$OUT/sustained"
start_service "$OUT/sustained"
"$TOOLS" loadgen --json --duration "$SUSTAINED_SECONDS" --credentials "$OUT/sustained/sandbox-credentials.json" \
  --url "http://127.0.0.1:$PORT" --concurrency 64 --server-pid "$PID" >"$OUT/sustained.json"
kill "$PID" || true; wait "$PID" 2>/dev/null || true

echo "== criterion benchmarks"
cargo bench --locked -p prepaid-bootstrap --bench hot_paths -- --warm-up-time 1 --measurement-time 3 2>/dev/null \
  | grep -E '^[A-Za-z].*$|time:' >"$OUT/criterion.txt" || true

python3 scripts/perf_report.py write "$OUT" docs/PERFORMANCE.md docs/perf-concurrency.svg "$SECONDS_PER_RUN" docs/perf-history.md
echo "wrote docs/PERFORMANCE.md, docs/perf-concurrency.svg and a line of docs/perf-history.md"
