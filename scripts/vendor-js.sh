#!/usr/bin/env bash
# Re-fetch the JavaScript the static book needs, from the npm registry, into
# book/_vendor/ (copied to _build/html/_static/ by the build; see _config.yml).
#   widgets/  @jupyter-widgets/html-manager embed-amd.js (+ the FontAwesome 4
#             fonts it loads next to itself) and require.js: the widget state
#             embedded in the pages renders with no kernel and no CDN.
#   mathjax/  MathJax 3 tex-mml-chtml.js, its CHTML woff2 fonts and the TeX
#             extensions its autoloader may fetch.
#   reveal/   reveal.js 4 for the lecture slides (book/_ext/rnnbook_slides.py):
#             reveal.js, reveal.css, the white theme with its Source Sans Pro
#             fonts, and the speaker-notes plugin (its speaker view is inlined
#             in notes.js, so the notes window works offline too).
# Only the files the pages load are kept. Run it when changing a version
# below; commit book/_vendor/ afterwards (SHA256SUMS records what was copied).
set -euo pipefail
cd "$(dirname "$0")/.."
HTML_MANAGER=1.0.15   # ipywidgets 8.1 (controls 2.0.0 models), what myst-nb expects
REQUIREJS=2.3.8
MATHJAX=3.2.2         # the MathJax 3 Sphinx 7 configures (mathjax3_config)
REVEAL=4.6.0          # the last reveal.js 4

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(
  cd "$tmp"
  npm pack --silent "@jupyter-widgets/html-manager@$HTML_MANAGER" \
    "requirejs@$REQUIREJS" "mathjax@$MATHJAX" "reveal.js@$REVEAL" >/dev/null
  for pkg in html-manager requirejs mathjax reveal.js; do
    mkdir "$pkg"
    tar xzf ./*"$pkg"-*.tgz -C "$pkg"
  done
)
out=book/_vendor
rm -rf "$out/widgets" "$out/mathjax" "$out/reveal"
mkdir -p "$out/widgets" "$out/mathjax/output/chtml/fonts" "$out/mathjax/input/tex" \
  "$out/reveal/theme/fonts" "$out/reveal/plugin/notes"

hm="$tmp/html-manager/package/dist"
cp "$hm/embed-amd.js" "$hm/embed.js.LICENSE.txt" "$out/widgets/"
# the FontAwesome 4 fonts embed-amd.js loads relative to itself (woff2; woff as fallback)
cp "$hm"/*.woff2 "$hm"/*.woff "$out/widgets/"
cp "$tmp/requirejs/package/require.js" "$out/widgets/"

mj="$tmp/mathjax/package"
cp "$mj/es5/tex-mml-chtml.js" "$mj/LICENSE" "$out/mathjax/"
cp -r "$mj/es5/output/chtml/fonts/woff-v2" "$out/mathjax/output/chtml/fonts/"
cp -r "$mj/es5/input/tex/extensions" "$out/mathjax/input/tex/"

rv="$tmp/reveal.js/package"
cp "$rv/dist/reveal.js" "$rv/dist/reveal.css" "$rv/LICENSE" "$out/reveal/"
cp "$rv/dist/theme/white.css" "$out/reveal/theme/"
# browsers take the woff of the font's src list; the .eot and .ttf are not copied
mkdir -p "$out/reveal/theme/fonts/source-sans-pro"
cp "$rv"/dist/theme/fonts/source-sans-pro/{source-sans-pro.css,LICENSE,*.woff} \
  "$out/reveal/theme/fonts/source-sans-pro/"
cp "$rv/plugin/notes/notes.js" "$out/reveal/plugin/notes/"

cat > "$out/VERSIONS" <<TXT
@jupyter-widgets/html-manager $HTML_MANAGER
requirejs $REQUIREJS
mathjax $MATHJAX
reveal.js $REVEAL
TXT
(cd "$out" && find widgets mathjax reveal -type f | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
du -sh "$out/widgets" "$out/mathjax" "$out/reveal"
