#!/usr/bin/env bash
# Build the book into _build/html (creating .venv with the pinned stack first).
# Warnings are errors (-W): a failing notebook cell fails the build.
# Notebooks execute from scratch when CI is set; otherwise jupyter-cache
# re-executes only the notebooks that changed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/env.sh "${RNNBOOK_ENV:-book}"
if [ -n "${CI:-}" ]; then
  export RNNBOOK_EXECUTE=force
fi
.venv/bin/jupyter-book build . --all -W -n --keep-going
