#!/usr/bin/env bash
# Copies the plotting libraries (versions in package.json, exact ones in package-lock.json) from
# node_modules into this folder, where MthpSim.Report embeds them. Run after `npm ci` here.
set -euo pipefail
cd "$(dirname "$0")"
cp node_modules/vega/build/vega.min.js vega.min.js
cp node_modules/vega-lite/build/vega-lite.min.js vega-lite.min.js
cp node_modules/vega-embed/build/vega-embed.min.js vega-embed.min.js
for p in vega vega-lite vega-embed; do cp "node_modules/$p/LICENSE" "LICENSE-$p.txt"; done
