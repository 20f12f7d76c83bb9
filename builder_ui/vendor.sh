#!/usr/bin/env bash
# Refresh static/vendor/ from the npm registry. A developer runs this after changing a pin in
# vendor-src/package.json and commits static/vendor/ (+ the lockfile). CI and run time never need Node.
set -euo pipefail
cd "$(dirname "$0")"
V=static/vendor
N=vendor-src/node_modules
if [ -f vendor-src/package-lock.json ]; then
  (cd vendor-src && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
else
  (cd vendor-src && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
rm -rf "$V"; mkdir -p "$V"

put() {  # put <package> <dest-subdir> <path-in-package[:new-name]>...  (+ the package's licence files)
  local pkg=$1 dest=$V/$2 f l; shift 2; mkdir -p "$dest"
  for f in "$@"; do
    if [[ $f == *:* ]]; then cp "$N/$pkg/${f%%:*}" "$dest/${f#*:}"; else cp "$N/$pkg/$f" "$dest/"; fi
  done
  local name=${pkg#@}; name=${name//\//-}
  for l in LICENSE LICENSE.md LICENSE.txt NOTICE; do
    if [ -f "$N/$pkg/$l" ]; then cp "$N/$pkg/$l" "$dest/${l%%.*}.$name"; fi
  done
}
put sortablejs sortable Sortable.min.js
put echarts    echarts  dist/echarts.min.js
put trix       trix     dist/trix.umd.min.js:trix.min.js dist/trix.css
cp "$N/dompurify/LICENSE" "$V/trix/LICENSE.dompurify"  # bundled into trix.umd.min.js
# CodeMirror 6 ships as ES modules only: bundle the pieces dsl_editor.js needs once, into one
# minified IIFE (window.TGCodeMirror), with the licence of every package that went into it.
mkdir -p "$V/codemirror"
"$N/.bin/esbuild" vendor-src/dsl-editor-entry.js --bundle --minify --format=iife --global-name=TGCodeMirror \
  --target=es2020 --legal-comments=none --log-level=warning \
  --metafile=vendor-src/node_modules/meta.json --outfile="$V/codemirror/codemirror.min.js"
node -e 'const m = require("./vendor-src/node_modules/meta.json"), seen = new Set();
  for (const f of Object.keys(m.inputs)) { const x = f.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//); if (x) seen.add(x[1]); }
  console.log([...seen].sort().join("\n"))' | while read -r pkg; do
  name=${pkg#@}; name=${name//\//-}; found=
  for l in LICENSE LICENSE.md LICENSE.txt; do
    if [ -f "$N/$pkg/$l" ]; then cp "$N/$pkg/$l" "$V/codemirror/LICENSE.$name"; found=1; break; fi
  done
  [ -n "$found" ] || { echo "no licence file in $pkg" >&2; exit 1; }
done
(cd $V && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | xargs sha256sum > SHA256SUMS)
rm -rf vendor-src/node_modules
du -sh "$V"
