# Sourced by .ci/run: a Python virtual environment with the test tools from PyPI (jwcrypto for
# JWE interoperability tests), exported as PREPAID_PYTHON.
# shellcheck source=/dev/null
. .ci/install.sh
venv="target/ci-venv"
if [ ! -x "$venv/bin/python" ]; then
  # Debian's python3 makes virtual environments only with python3-venv.
  python3 -c "import ensurepip" 2>/dev/null || install_debian python3-venv
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r .ci/requirements.txt
PREPAID_PYTHON="$(pwd)/$venv/bin/python"
export PREPAID_PYTHON
echo "Python test tools: $("$PREPAID_PYTHON" -m pip list --disable-pip-version-check 2>/dev/null | grep -Ei '^(jwcrypto|schemathesis|pytest) ' | tr -s ' ' | tr '\n' ' ')"
