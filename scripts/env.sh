#!/usr/bin/env bash
# Create or update .venv with the pinned stack. Idempotent and quick when
# nothing changed (a stamp records what was installed).
#   scripts/env.sh        reader's stack (requirements.txt)
#   scripts/env.sh test   plus the test-only pins (requirements-test.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-book}
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
files="requirements.txt constraints.txt pyproject.toml"
reqs="-r requirements.txt"
if [ "$want" = test ]; then
  files="$files requirements-test.txt"
  reqs="$reqs -r requirements-test.txt"
fi
stamp=".venv/.stamp-$want-$(cat $files | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade "pip==26.3" || .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt $reqs
  touch "$stamp"
fi
