#!/bin/sh
# The fidelity table of docs/fidelity.md: each shipped trace replayed under each setting it has a
# truth file for, against what the live kernel did; prints the worst difference per cell.
# Usage: traces/fidelity.sh [MTHPSIM]
set -eu
cd "$(dirname "$0")/.."
MTHPSIM=${1:-"dotnet run -c Release --project src/MthpSim.Cli --"}
echo "| program | every size never | 64K always | 2M and 64K always |"
echo "| --- | --- | --- | --- |"
for t in traces/*/; do
  name=$(basename "$t")
  row="| $name"
  for truth in truth-never.json truth-64k.json truth-2m-64k.json; do
    if [ ! -f "$t$truth" ]; then row="$row | -"; continue; fi
    out=$($MTHPSIM replay "${t}trace.mtrace" --compare-truth "$t$truth" || true)
    worst=$(printf '%s\n' "$out" | awk '/%$/ && !/within/ { d = ($NF == "1%") ? $(NF-2) : $NF; sub("%", "", d); sub("^[+]", "", d); v = d + 0; if (v < 0) v = -v; if (v >= w) { w = v; what = $1 " " $2 " " $3 " " $4 } } END { printf "%.1f%% (%s)", w, what }')
    ok=$(printf '%s\n' "$out" | grep -q "every figure within" && echo "within 1%" || echo "**not within 1%**")
    row="$row | $ok, worst $worst"
  done
  echo "$row |"
done
