#!/usr/bin/env bash
# Run every test: unit and property tests, PyTorch parity, every notebook
# under nbval, the book build with -W, and the real-browser test of the
# built pages. Installs what it needs (Debian chromium, .venv) first.
set -euo pipefail
cd "$(dirname "$0")/.."
export MPLBACKEND=Agg OMP_WAIT_POLICY=PASSIVE PYTHONHASHSEED=0
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
bash scripts/env.sh test
RNNBOOK_ENV=test bash scripts/book.sh
.venv/bin/python -m pytest --nbval-lax -p no:cacheprovider "$@"
