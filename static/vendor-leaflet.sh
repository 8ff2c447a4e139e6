#!/usr/bin/env bash
# Vendors Leaflet into static/vendor/leaflet so the page needs nothing from
# the internet at run time. The files are committed; rerun this only to change
# the version. Safe to run repeatedly: it replaces the directory wholesale.
set -euo pipefail

version="${LEAFLET_VERSION:-1.9.4}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="$here/vendor/leaflet"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

(cd "$tmp" && npm pack --silent "leaflet@$version" >/dev/null)
tar -xzf "$tmp"/leaflet-*.tgz -C "$tmp"

rm -rf "$dest"
mkdir -p "$dest/images"
cp "$tmp/package/dist/leaflet.js" "$tmp/package/dist/leaflet.css" "$dest/"
cp "$tmp/package/dist/images/"* "$dest/images/"
cp "$tmp/package/LICENSE" "$dest/LICENSE"

echo "leaflet $version vendored into ${dest#"$here/"}"
