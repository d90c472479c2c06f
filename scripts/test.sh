#!/usr/bin/env bash
# Install mognet_lab and its test dependencies into .venv-test, then run the tests.
# Used by the README and by CI (.ci/run). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv-test
.venv-test/bin/python -m pip install --quiet --upgrade pip
.venv-test/bin/python -m pip install --quiet -e ".[test]"
set +e
.venv-test/bin/python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: the test setup is broken." >&2
  exit 1
fi
exit "$status"
