#!/usr/bin/env bash
# Set up and start the Fashion Studio on a fresh machine:
#   creates .venv, installs requirements, builds + ingests + embeds the demo catalog on first
#   run (into the embedded database unless MONGO_URI is set), then serves the app on :8501.
# Usage: bash run_app.sh [--setup-only] [--items N]   (PORT=8502 bash run_app.sh to change port)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON_BIN="${PYTHON_BIN:-python3}"
VENV=.venv
ITEMS=2000
SETUP_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --setup-only) SETUP_ONLY=1 ;;
    --items) ITEMS="$2"; shift ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
  shift
done

setup_venv() {
  # Reinstall only when a requirements file changed (pip resolution takes a while).
  if [ ! -x "$VENV/bin/python" ]; then
    echo "==> creating $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --upgrade pip
  fi
  local stamp="$VENV/.requirements.sha256" want
  want=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "==> installing requirements (torch installs from local disk; about 2 minutes)"
    "$VENV/bin/python" -m pip install -q -r requirements-dev.txt
    echo "$want" > "$stamp"
  fi
}

setup_venv
[ "$SETUP_ONLY" = 1 ] && exit 0

echo "==> preparing the catalog (first run builds the ${ITEMS}-item demo catalog)"
"$VENV/bin/python" -m core demo ensure --items "$ITEMS"

echo "==> starting Fashion Studio on http://localhost:${PORT:-8501}"
# Streamlit lists every module of pages/ as a page until app.py's menu has run once; starting
# with that listing off shows the app's own menu from the very first visit.
exec "$VENV/bin/python" -c '
import sys
try:
    from streamlit.runtime.pages_manager import PagesManager
    PagesManager.uses_pages_directory = False
except ImportError:
    pass
from streamlit.web import cli
sys.argv = ["streamlit", "run", "app.py", *sys.argv[1:]]
sys.exit(cli.main())' \
  --server.port "${PORT:-8501}" --server.headless true --browser.gatherUsageStats false
