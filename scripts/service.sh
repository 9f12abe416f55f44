# Starting the service for the measuring scripts (sourced, not run). Needs BIN (the service's
# binary). start_service DATA_DIR [KEY=VALUE ...] starts it on a free port with DATA_DIR and the
# given environment, and sets PORT, PID and READY_MS (milliseconds until /readyz answered).
start_service() {
  local data="$1"; shift
  local started; started=$(date +%s%N)
  env PREPAID_DATA_DIR="$data" PREPAID_LISTEN=127.0.0.1:0 "$@" "$BIN" >"$data.out" 2>"$data.err" &
  PID=$!
  for _ in $(seq 1 200); do
    PORT=$(grep -o 'http://127.0.0.1:[0-9]*/api' "$data.out" 2>/dev/null | head -1 | sed 's/.*:\([0-9]*\)\/api/\1/') || true
    if [ -n "${PORT:-}" ] && curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; then
      READY_MS=$(( ($(date +%s%N) - started) / 1000000 ))
      return 0
    fi
    sleep 0.02
  done
  echo "service did not start" >&2; cat "$data.err" >&2; exit 1
}
