#!/usr/bin/env bash
# Runs the browser tests (tests/browser): the API page of a fresh sandbox, driven in Debian's
# Chromium through chromedriver, headless. Installs chromium and chromium-driver from Debian's
# packages when they are missing and apt-get can; without them the tests are skipped, loudly,
# and with CI=true that is a failure. Needs PREPAID_PYTHON (from .ci/python.sh) and
# PREPAID_BINARY.
set -euo pipefail
cd "$(dirname "$0")/.."
chromium="${PREPAID_CHROMIUM:-/usr/bin/chromium}"
chromedriver="${PREPAID_CHROMEDRIVER:-/usr/bin/chromedriver}"
# shellcheck source=/dev/null
. .ci/install.sh
if [ ! -x "$chromium" ] || [ ! -x "$chromedriver" ]; then
  install_debian chromium chromium-driver || true
fi
if [ ! -x "$chromium" ] || [ ! -x "$chromedriver" ]; then
  echo "SKIPPED: the browser tests of the API page need $chromium and $chromedriver (Debian: apt install chromium chromium-driver)" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi
# shellcheck source=/dev/null
. .ci/sandbox.sh
PREPAID_URL="$url" PREPAID_CHROMIUM="$chromium" PREPAID_CHROMEDRIVER="$chromedriver" \
  "$PREPAID_PYTHON" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning -rA tests/browser "$@"
