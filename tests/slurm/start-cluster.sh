#!/usr/bin/env bash
# Starts a single-node Slurm cluster on this machine for the Slurm executor's tests: munged,
# slurmctld and slurmd, as root, by pid file, without systemd. Installs Debian's slurmctld, slurmd,
# slurm-client and munge when they are missing. Idempotent: a cluster already up is left as it is.
#
# Everything lives in $AUTORESEARCH_SLURM_DIR (default /var/tmp/autoresearch-slurm): slurm.conf,
# state, spool, logs and pid files. Client commands find the configuration through SLURM_CONF
# (printed at the end); when /etc/slurm/slurm.conf does not exist it is linked to ours, so plain
# `sinfo` works too. tests/slurm/stop-cluster.sh stops the daemons again.
set -euo pipefail

dir=${AUTORESEARCH_SLURM_DIR:-/var/tmp/autoresearch-slurm}
partition=${AUTORESEARCH_SLURM_PARTITION:-autoresearch}
conf=$dir/slurm.conf
export SLURM_CONF=$conf

alive() {  # alive PIDFILE: the process the pid file names runs
  [ -s "$1" ] && [ -d "/proc/$(cat "$1")" ]
}

node_idle() {
  sinfo -h -p "$partition" -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'
}

if alive "$dir/munged.pid" && alive "$dir/slurmctld.pid" && alive "$dir/slurmd.pid" && node_idle; then
  echo "slurm cluster already up ($conf)"
  echo "export SLURM_CONF=$conf"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "start-cluster.sh: must run as root when the cluster is not up (it starts slurmctld and slurmd)" >&2
  exit 1
fi

packages=(slurmctld slurmd slurm-client munge)
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${packages[@]}"
fi

mkdir -p "$dir"/{state,spool,log,munge}
chmod 755 "$dir"

# munge: a key if there is none, and munged on its default socket (where Slurm's client looks).
if [ ! -s /etc/munge/munge.key ]; then
  mkdir -p /etc/munge
  dd if=/dev/urandom of=/etc/munge/munge.key bs=1 count=1024 status=none
fi
chown munge:munge /etc/munge /etc/munge/munge.key
chmod 700 /etc/munge
chmod 400 /etc/munge/munge.key
mkdir -p /run/munge /var/lib/munge /var/log/munge
chown munge:munge /run/munge /var/lib/munge /var/log/munge
chmod 755 /run/munge
if ! alive "$dir/munged.pid"; then
  rm -f "$dir/munged.pid"
  # munged keeps its own pid file in /run/munge; ours records the same pid for this script.
  runuser -u munge -- munged --force
  for _ in $(seq 50); do [ -s /run/munge/munged.pid ] && break; sleep 0.1; done
  cp /run/munge/munged.pid "$dir/munged.pid"
fi

# slurm.conf: the node as slurmd sees it, with less memory than it has (a figure above the real
# one drains the node).
host=$(hostname -s)
node_line=$(slurmd -C | head -n1)
real_mb=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$node_line")
node_line=$(sed "s/RealMemory=[0-9]*/RealMemory=$((real_mb * 9 / 10))/" <<<"$node_line")
cat >"$conf.tmp" <<CONF
# Written by tests/slurm/start-cluster.sh: a single-node cluster for autoresearch's tests.
ClusterName=autoresearch
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
JobRequeue=0
# A dead slurmd is noticed within seconds, not the default five minutes (the tests kill one).
SlurmdTimeout=10
KillWait=5
MinJobAge=300
# Batch jobs start as soon as they are submitted (the default may hold them up to 3 s).
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
$node_line State=UNKNOWN
PartitionName=$partition Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
mv "$conf.tmp" "$conf"
if [ ! -e /etc/slurm/slurm.conf ]; then
  mkdir -p /etc/slurm
  ln -s "$conf" /etc/slurm/slurm.conf
fi

if ! alive "$dir/slurmctld.pid"; then
  rm -f "$dir/slurmctld.pid"
  slurmctld -f "$conf"
fi
if ! alive "$dir/slurmd.pid"; then
  rm -f "$dir/slurmd.pid"
  slurmd -f "$conf"
fi

for _ in $(seq 300); do
  if node_idle; then
    echo "slurm cluster up: partition $partition on $host ($conf)"
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  # A node left down by an earlier run (a test killed its slurmd) comes back.
  if sinfo -h -p "$partition" -o '%t' 2>/dev/null | grep -qE '^(down|drain)'; then
    scontrol update NodeName="$host" State=RESUME >/dev/null 2>&1 || true
  fi
  sleep 0.2
done
echo "start-cluster.sh: the node did not become idle within 60 s; see $dir/log/" >&2
sinfo -N -l >&2 || true
exit 1
