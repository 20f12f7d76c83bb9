#!/usr/bin/env bash
# Refresh the Swagger UI that /docs serves from the package (no CDN: air-gapped and mainland-China
# intranets cannot reach one). The version and integrity pinned in engine/http/static/swagger-ui/
# package-lock.txt are what this fetches; change them there to upgrade, then run this script.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
target="$here/engine/http/static/swagger-ui"
version="$(sed -n 's/^version: //p' "$target/package-lock.txt")"
integrity="$(sed -n 's/^integrity: //p' "$target/package-lock.txt")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "swagger-ui-dist@$version" >/dev/null)
tarball="$work/swagger-ui-dist-$version.tgz"
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
    echo "integrity mismatch: expected $integrity, got $actual" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$work"
for file in swagger-ui-bundle.js swagger-ui.css favicon-32x32.png LICENSE; do
    cp "$work/package/$file" "$target/$file"
done
echo "swagger-ui-dist $version vendored into $target"
