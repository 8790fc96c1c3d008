#!/usr/bin/env bash
# Measure the figures of the README's "Measured" section and print them as a
# markdown block stamped with the date, the commit and the machine, so the
# README can carry them without them drifting: paste the block over the old
# one (or `bash scripts/measure.sh > /tmp/measured.md`).
#
#   bash scripts/measure.sh             clean build + the whole test command
#   bash scripts/measure.sh --build     the clean build and the widget benchmark only
#
# What it does, in a fresh clone of HEAD in a temporary folder (uncommitted
# changes are not measured; it says so when the checkout is dirty):
#   1. `CI=1 bash scripts/book.sh`: .venv from the pip cache, then a build
#      from scratch, every notebook executed (the build log gives each
#      notebook's execution time);
#   2. `CI=true bash .ci/run` (= `bash scripts/test.sh`): the README's test
#      command, timed, with pytest's summary line;
#   3. the largest pages of the built book and the vendored scripts' sizes;
#   4. `benchmarks/widget_frame.py` (animate_trace per frame, payload).
# The clone (and its .venv) is deleted afterwards unless KEEP=1.
# Wall-clock times depend on the machine's load: run it when the machine is
# otherwise idle (the load average is printed with the figures).
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-all}
case "$mode" in all|--build) ;; *) echo "usage: $0 [--build]" >&2; exit 2 ;; esac

commit=$(git rev-parse --short=12 HEAD)
subject=$(git log -1 --format=%s HEAD | cut -c1-70)
dirty=""
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  dirty=" (the checkout had uncommitted changes; they are not in these figures)"
fi
tmp=$(mktemp -d)
[ "${KEEP:-}" = 1 ] || trap 'rm -rf "$tmp"' EXIT
git clone --quiet --no-hardlinks . "$tmp/clone"
cd "$tmp/clone"
git checkout --quiet "$commit"

elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$1" "$2"; }
load=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")
cores=$(nproc 2>/dev/null || echo "?")
started=$(date -u +"%Y-%m-%d %H:%M UTC")

echo "scripts/measure.sh: building in $tmp/clone (commit $commit)" >&2
t0=$(date +%s.%N)
CI=1 bash scripts/book.sh > "$tmp/build.log" 2>&1 || { tail -30 "$tmp/build.log" >&2; exit 1; }
t1=$(date +%s.%N)
build_s=$(elapsed "$t0" "$t1")
executed=$(grep -oE "[^/ ]+\.ipynb: Executed notebook in [0-9.]+ seconds" "$tmp/build.log" \
  | sed -E 's/\.ipynb: Executed notebook in ([0-9.]+) seconds/ \1/' \
  | awk '{printf "%s%s %.0f s", sep, $1, $2; sep=", "}')

test_line="not run (--build)"
tests_s=""
if [ "$mode" = all ]; then
  echo "scripts/measure.sh: running the test command (CI=true bash .ci/run)" >&2
  t2=$(date +%s.%N)
  status=0
  CI=true bash .ci/run > "$tmp/test.log" 2>&1 || status=$?
  t3=$(date +%s.%N)
  tests_s=$(elapsed "$t2" "$t3")
  summary=$(grep -E "(passed|failed|error).* in [0-9.]+s" "$tmp/test.log" | tail -1 | sed -E "s/^=+ //; s/ =+$//")
  test_line="exit status $status, pytest: ${summary:-no summary line (see the log)}"
fi

pages=$(cd _build/html && find . -name "*.html" -not -path "./_*" -printf "%s %P\n" | sort -rn | head -3 \
  | awk '{printf "%s`%s` %.2f MB", sep, $2, $1 / 1e6; sep=", "}')
vendor=$(du -b book/_vendor/widgets/embed-amd.js book/_vendor/mathjax/tex-mml-chtml.js 2>/dev/null \
  | awk '{printf "%s`%s` %.1f MB", sep, $2, $1 / 1e6; sep=", "}')
bench=$( (.venv/bin/python benchmarks/widget_frame.py 2>&1 || echo "(benchmark failed)") | sed 's/^/    /')

cat <<MD
## Measured

Measured on $started, commit \`$commit\` ("$subject")$dirty, by
\`bash scripts/measure.sh\` in a fresh clone ($cores cores, load average
$load at the start; wall-clock times grow with the machine's load).

- Clean build (\`CI=1 bash scripts/book.sh\`: .venv from the pip cache, every
  notebook executed from scratch): $build_s s. Target: under 3 minutes.
  Notebook execution: $executed (limit 60 s each).
MD
if [ "$mode" = all ]; then
  cat <<MD
- Whole test command (\`CI=true bash .ci/run\`, i.e. \`bash scripts/test.sh\`,
  build included): $tests_s s wall clock; $test_line. Target: under 15 minutes.
MD
fi
cat <<MD
- Largest pages: $pages (budget 3 MB per page, 1 MB per widget).
  Vendored scripts, loaded once per browser cache: $vendor.
- Widget frames (\`benchmarks/widget_frame.py\`, target < 50 ms per frame):

$bench

To measure again: \`bash scripts/measure.sh\` (about as long as a build plus
a test run) and paste its output over this section.
MD
