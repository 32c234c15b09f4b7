#!/usr/bin/env bash
# Renders the PNG icons of public/ from public/icon.svg (needs ImageMagick with SVG support:
# apt-get install imagemagick librsvg2-bin). The PNGs are committed; run this after changing the SVG.
set -euo pipefail
cd "$(dirname "$0")/../public"
CONVERT=${CONVERT:-/usr/bin/convert}
for size in 192 512; do
  "$CONVERT" -background none -density 384 icon.svg -resize "${size}x${size}" -strip -depth 8 "PNG32:icon-${size}.png"
done
# maskable: full-bleed background, so launchers may cut any shape out of it
sed 's/rx="112" //' icon.svg | "$CONVERT" -background none -density 384 svg:- -resize 512x512 -strip -depth 8 PNG32:icon-maskable-512.png
