#!/usr/bin/env bash
# Runs deploy/slurm/sweep.sbatch on a real single-node Slurm cluster started on this machine:
# Debian's slurm-wlm and munge (installed when missing), configured in a temporary folder with
# ports of its own, started, used for one job array, and stopped again on every way out.
#
#   single-node-test.sh MTHPSIM GRID SHARDS OUT_DIR
#
# Runs `sbatch --array=0-(SHARDS-1) --wait sweep.sbatch GRID OUT_DIR/shards` and then
# `MTHPSIM sweep merge` into OUT_DIR/merged.jsonl. Exit 0 when the array and the merge succeeded,
# 77 (with the reason on stderr) when Slurm cannot be installed or started here, 1 otherwise.
set -uo pipefail
mthpsim=${1:?usage: single-node-test.sh MTHPSIM GRID SHARDS OUT_DIR}
grid=$(realpath "${2:?}")
shards=${3:?}
out=$(realpath -m "${4:?}")
here=$(dirname "$(realpath "$0")")

skip() { echo "slurm unavailable: $*" >&2; exit 77; }
[ "$(id -u)" = 0 ] || skip "not root (slurmd and munged are started as root)"
if ! command -v sbatch >/dev/null || ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  command -v apt-get >/dev/null || skip "slurm-wlm is not installed and there is no apt-get to install it"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurm-wlm munge; } >"$out.apt.log" 2>&1 \
    || skip "apt-get could not install slurm-wlm and munge (log: $out.apt.log)"
fi

work=$(mktemp -d /tmp/mthpsim-slurm.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  # Every daemon this script started, and nothing else.
  [ -f "$work/slurm.conf" ] && SLURM_CONF="$work/slurm.conf" scancel --quiet --user=root 2>/dev/null
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for _ in $(seq 50); do
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() { local p; while :; do p=$(shuf -i 20000-60000 -n 1); ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null && { echo "$p"; return; }; done; }
ctld_port=$(free_port)
slurmd_port=$(free_port)
host=$(hostname -s)

# munge: a key and a socket of this test's own, so a munged the machine may run is left alone.
mkdir -p "$work/munge"
dd if=/dev/urandom of="$work/munge/munge.key" bs=1024 count=1 status=none
chmod 700 "$work/munge"; chmod 400 "$work/munge/munge.key"
# Daemons run in the foreground as this script's children, so that it can stop and reap them.
munged --foreground --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
  --pid-file="$work/munged.pid" --log-file="$work/munged.log" --seed-file="$work/munge/seed" 2>>"$work/munged.log" &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/munge/socket" ] && break; sleep 0.1; done
[ -S "$work/munge/socket" ] || skip "munged did not start: $(tail -3 "$work/munged.log" 2>/dev/null)"

mkdir -p "$work/state" "$work/spool"
# The node as slurmd sees it (CPUs, memory), so the node registers without a mismatch.
node=$(slurmd -C | head -1)
cat >"$work/slurm.conf" <<CONF
ClusterName=mthpsim-test
SlurmctldHost=$host
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
$node State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm.conf"
slurmctld -D -f "$SLURM_CONF" 2>>"$work/slurmctld.log" &
pids+=($!)
slurmd -D -f "$SLURM_CONF" 2>>"$work/slurmd.log" &
pids+=($!)
for _ in $(seq 120); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1)
  [ "$state" = idle ] && break
  sleep 0.5
done
[ "$state" = idle ] || skip "the node did not become idle in 60 s (state: ${state:-none}); slurmctld: $(tail -3 "$work/slurmctld.log")"

rm -rf "$out"; mkdir -p "$out"
echo "$(date +%T) single-node Slurm up ($host, ports $ctld_port/$slurmd_port); submitting $shards array tasks" >&2
MTHPSIM="$mthpsim" sbatch --wait --quiet --array="0-$((shards - 1))" --chdir="$out" \
  --output="$out/task-%a.out" --export=ALL "$here/sweep.sbatch" "$grid" "$out/shards"
status=$?
for f in "$out"/task-*.out; do echo "== $f" >&2; cat "$f" >&2; done
if [ $status != 0 ]; then
  echo "the job array failed (sbatch --wait: exit $status)" >&2
  echo "slurmctld log:" >&2; tail -20 "$work/slurmctld.log" >&2
  exit 1
fi
# shellcheck disable=SC2086
$mthpsim sweep merge "$grid" "$out"/shards/shard-*.jsonl -o "$out/merged.jsonl"
