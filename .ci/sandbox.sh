# Sourced: starts the release binary as a fresh sandbox in a temporary folder, on a free port,
# and sets `url` (its address) and `work` (the folder, holding data/sandbox-credentials.json).
# The sandbox stops and its folder goes when the sourcing script exits. Needs PREPAID_BINARY.
work="$(mktemp -d)"
mkdir -p "$work/data"
PREPAID_DATA_DIR="$work/data" PREPAID_LISTEN=127.0.0.1:0 "$PREPAID_BINARY" >"$work/out" 2>"$work/log" &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
url=""
for _ in $(seq 1 300); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/api' "$work/out" 2>/dev/null | head -1 | sed 's#/api$##') || true
  [ -n "${url:-}" ] && break
  sleep 0.05
done
[ -n "${url:-}" ] || { echo "the service did not start" >&2; cat "$work/log" >&2; exit 1; }
