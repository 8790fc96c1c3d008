#!/usr/bin/env bash
# Run every test: install Debian chromium and the CJK font (fonts-noto-cjk,
# for the glossary's Chinese terms) if missing, create .venv with the
# test pins, build the book (jupyter-book build . --all -W -n --keep-going,
# log in _build/build.log), then one pytest run over tests/ and book/:
# unit and property tests, PyTorch parity, every notebook under nbval
# (--nbval-lax), notebook hygiene, the build's exit status, byte budgets and
# the real-browser test of the built pages (screenshots in _build/screenshots/).
# A failed build does not stop the run: tests/test_browser.py turns it into a
# failing test, so pytest's exit status is the script's and its summary is
# the last line. Extra arguments go to pytest (e.g. -k browser, -x).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_WAIT_POLICY=PASSIVE PYTHONHASHSEED=0 PYDEVD_DISABLE_FILE_VALIDATION=1
# One BLAS thread per process (kernels inherit it): the book's matrices are
# small, and OpenBLAS threads that wait for a busy core made a notebook 10-20x
# slower on a loaded 2-core machine (8.4: 25 s against 7 min). The build runs
# two kernels side by side, one per core (rnnbook/execute.py).
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-1}" OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
unset MPLBACKEND   # kernels need the inline backend; headless tests pick Agg anyway

# Debian packages the browser test needs: chromium, and a CJK font, without
# which the glossary's Chinese terms render as empty boxes (the test fails).
apt_needed=""
[ -x /usr/bin/chromium ] || apt_needed="chromium"
dpkg -s fonts-noto-cjk >/dev/null 2>&1 || apt_needed="$apt_needed fonts-noto-cjk"
if [ -n "$apt_needed" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "scripts/test.sh: installing Debian packages:$apt_needed (first time only; a few minutes)"
  $SUDO apt-get update -q
  # -q keeps apt's per-package lines (progress) but drops its progress bar
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $apt_needed
fi

echo "scripts/test.sh: Python environment (.venv, test pins)"
bash scripts/env.sh test

mkdir -p _build
echo "scripts/test.sh: building the book (log: _build/build.log)"
build_status=0
RNNBOOK_ENV=test bash scripts/book.sh 2>&1 | tee _build/build.log || build_status=$?
echo "$build_status" > _build/build-status
if [ "$build_status" != 0 ]; then
  echo "scripts/test.sh: the book build failed (exit $build_status); running the tests anyway" >&2
fi

echo "scripts/test.sh: running the tests"
exec .venv/bin/python -m pytest --nbval-lax -p no:cacheprovider "$@"
