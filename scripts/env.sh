#!/usr/bin/env bash
# Create or update .venv with the pinned stack. Idempotent and quick when
# nothing changed (a stamp records what was installed). On a fresh machine
# the install downloads ~1 GB (torch for the tests) and takes minutes: pip
# prints each package it collects, so it does not sit silent.
#   scripts/env.sh        the book build's stack (requirements.txt, and
#                         requirements-book.txt: the pinned CPU torch that
#                         chapter 4's "bring your own model" runs)
#   scripts/env.sh test   plus the test-only pins (requirements-test.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-book}
if [ ! -x .venv/bin/python ]; then
  echo "scripts/env.sh: creating .venv ($(python3 --version 2>&1))"
  python3 -m venv .venv
fi
files="requirements.txt requirements-book.txt constraints.txt pyproject.toml"
reqs="-r requirements.txt -r requirements-book.txt"
if [ "$want" = test ]; then
  files="$files requirements-test.txt"
  reqs="$reqs -r requirements-test.txt"
fi
stamp=".venv/.stamp-$want-$(cat $files | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "scripts/env.sh: installing the pinned '$want' stack into .venv ($reqs; first time: minutes)"
  .venv/bin/python -m pip install --quiet --upgrade "pip==26.3" || .venv/bin/python -m pip install --quiet --upgrade pip
  # not --quiet: pip's "Collecting ... / Downloading ... (N MB)" lines are
  # the progress (no progress bar, which floods non-terminal logs)
  .venv/bin/python -m pip install --progress-bar off -c constraints.txt $reqs
  touch "$stamp"
  echo "scripts/env.sh: .venv ready"
else
  echo "scripts/env.sh: .venv up to date ($want)"
fi
