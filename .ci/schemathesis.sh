#!/usr/bin/env bash
# Runs the Schemathesis property tests (tests/schemathesis) against the real binary in a
# temporary sandbox. Needs PREPAID_PYTHON (from .ci/python.sh) and PREPAID_BINARY.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
mkdir -p "$work/data"
PREPAID_DATA_DIR="$work/data" PREPAID_LISTEN=127.0.0.1:0 "$PREPAID_BINARY" >"$work/out" 2>"$work/log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 300); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/api' "$work/out" 2>/dev/null | head -1 | sed 's#/api$##') || true
  [ -n "${url:-}" ] && break
  sleep 0.05
done
[ -n "${url:-}" ] || { echo "the service did not start" >&2; cat "$work/log" >&2; exit 1; }
# The document the service serves is a valid OpenAPI document.
"$PREPAID_PYTHON" - "$url" <<'PY'
import json
import sys
import urllib.request

from openapi_spec_validator import validate

validate(json.load(urllib.request.urlopen(sys.argv[1] + "/openapi.json")))
print("openapi.json: a valid OpenAPI document")
PY
PREPAID_URL="$url" PREPAID_CREDENTIALS="$work/data/sandbox-credentials.json" \
  "$PREPAID_PYTHON" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning tests/schemathesis "$@"
