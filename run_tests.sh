#!/usr/bin/env bash
# Set up and run every test: venv + requirements (via run_app.sh --setup-only), Chromium for
# the browser tests (Debian package, installed when missing), ruff, then the whole pytest suite.
# Extra arguments go to pytest, e.g. `bash run_tests.sh -m "not e2e" -x`.
set -euo pipefail
cd "$(dirname "$0")"

bash run_app.sh --setup-only

if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium for the browser tests"
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

echo "==> ruff"
.venv/bin/ruff check .

echo "==> pytest"
exec .venv/bin/python -m pytest "$@"
