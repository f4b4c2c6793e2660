#!/bin/sh
# Records the shipped traces: four programs, each traced once with every mTHP size off, and its
# live results under three settings (truth files). Needs root, perf and gcc; a few minutes; THP
# settings are saved and restored by mthpsim record. Usage: traces/record.sh [MTHPSIM]
#   MTHPSIM: the mthpsim command (default: dotnet run -c Release --project src/MthpSim.Cli --)
set -eu
cd "$(dirname "$0")/.."
MTHPSIM=${1:-"dotnet run -c Release --project src/MthpSim.Cli --"}
IN=$(mktemp -d /tmp/mthpsim-traces.XXXXXX)
trap 'rm -rf "$IN"' EXIT INT TERM
# Inputs, the same bytes every time (the programs' memory depends on them).
python3 - "$IN" <<'PY'
import random, sys
d = sys.argv[1]
r = random.Random(20261204)
words = [''.join(r.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(r.randint(2, 9))) for _ in range(4000)]
with open(f'{d}/input.txt', 'w') as f:
    for _ in range(120000): f.write(' '.join(r.choice(words) for _ in range(10)) + '\n')
with open(f'{d}/prog.c', 'w') as f:
    for i in range(400):
        f.write(f'int f{i}(int *a, int n) {{ int s = {i}; for (int j = 0; j < n; j++) s += a[j] * {i % 7 + 1} ^ (s >> 3); return s; }}\n')
PY
# The truth runs, after the traced run has settled the page cache (see docs/trace-format.md);
# recorded.truth.json is the traced run's own census.
SETTINGS="--truth-as never:enabled=never,hugepages-64kB/enabled=never --truth-as 64k:hugepages-64kB/enabled=always --truth-as 2m-64k:enabled=always,hugepages-2048kB/enabled=inherit,hugepages-64kB/enabled=always"
PY=$(python3 -c 'import sys, os; print(os.path.realpath(sys.executable))')
# Python's hash seed is fixed: with a random one its dictionaries, and so its heap, differ run to run.
PYTHONHASHSEED=0 $MTHPSIM record -o traces/python $SETTINGS -- "$PY" -c "b = bytearray(64 << 20); b[::4096] = b'x' * (len(b) // 4096); d = {i: str(i) for i in range(200000)}"
$MTHPSIM record -o traces/xz $SETTINGS -- xz -T2 -6 -k -f "$IN/input.txt"
$MTHPSIM record -o traces/gcc $SETTINGS -- gcc -O2 -c "$IN/prog.c" -o "$IN/prog.o"
$MTHPSIM record -o traces/sqlite3 $SETTINGS -- sqlite3 :memory: "create table t(a, b); with recursive c(x) as (select 1 union all select x + 1 from c where x < 100000) insert into t select x, hex(x * 7919) from c; create index i on t(b); select count(*) from t;"
