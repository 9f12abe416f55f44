#!/usr/bin/env bash
# Runs the Schemathesis property tests (tests/schemathesis) against the real binary in a
# temporary sandbox. Needs PREPAID_PYTHON (from .ci/python.sh) and PREPAID_BINARY.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
. .ci/sandbox.sh
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
