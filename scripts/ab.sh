#!/usr/bin/env bash
# A/B of two builds of the service on this machine: the same load generator (this checkout's
# `prepaid-tools loadgen`, issuance and delivery at concurrency 64) against each build in turn,
# which goes first alternating from round to round, each run on a fresh sandbox: SQLite, then
# PostgreSQL when it answers on 127.0.0.1:5432. Usage:
#   bash scripts/ab.sh BINARY_A BINARY_B [seconds per run, 5] [rounds, 3]
# Prints a line per run (build, backend, round, req/s, p50/p99 ms, service CPU ms a request,
# answers by status) and leaves the raw JSON in the directory it names.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 2 ] || { sed -n 2,8p "$0"; exit 2; }
A="$(realpath "$1")"; B="$(realpath "$2")"
SECONDS_PER_RUN="${3:-5}"; ROUNDS="${4:-3}"
OUT="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

cargo build --release --locked -p prepaid-tools >/dev/null
TOOLS="$(pwd)/target/release/prepaid-tools"
echo "raw results in $OUT"
# shellcheck source=scripts/service.sh
. scripts/service.sh

PG_OK=0
if psql -h 127.0.0.1 -U postgres -d test -qc "SELECT 1" >/dev/null 2>&1; then PG_OK=1; fi

# run LABEL BACKEND ROUND: one measured run of build LABEL on a fresh sandbox of BACKEND.
run() {
  local label="$1" backend="$2" round="$3" data="$OUT/$1-$2-$3" env=()
  if [ "$label" = a ]; then BIN="$A"; else BIN="$B"; fi
  local database="prepaid_ab_$$_${label}_$round"
  if [ "$backend" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $database" >/dev/null
    env=(PREPAID_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database")
  fi
  mkdir -p "$data"
  start_service "$data" "${env[@]}"
  "$TOOLS" loadgen --json --duration "$SECONDS_PER_RUN" --concurrency 64 \
    --credentials "$data/sandbox-credentials.json" --url "http://127.0.0.1:$PORT" \
    --server-pid "$PID" >"$data.json"
  kill "$PID"; wait "$PID" 2>/dev/null || true
  if [ "$backend" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE $database WITH (FORCE)" >/dev/null
  fi
  python3 - "$label" "$backend" "$round" "$data.json" <<'PY'
import json, sys
label, backend, round_, path = sys.argv[1:]
r = json.load(open(path))
cpu = r.get("serverCpuSeconds")
per = f"{1000 * cpu / r['requests']:.3f}" if cpu and r["requests"] else "?"
print(f"{label} {backend:8} round {round_}: {r['throughput']:8.0f} req/s  p50 {r['p50Ms']:6.2f} ms"
      f"  p99 {r['p99Ms']:6.2f} ms  service CPU {per} ms/request  statuses {r['statuses']}")
PY
}

for round in $(seq 1 "$ROUNDS"); do
  for backend in sqlite postgres; do
    [ "$backend" = postgres ] && [ "$PG_OK" = 0 ] && continue
    # A then B in odd rounds, B then A in even ones: a drift of the machine favours neither.
    if [ $((round % 2)) = 1 ]; then order="a b"; else order="b a"; fi
    for label in $order; do run "$label" "$backend" "$round"; done
  done
done
