#!/usr/bin/env bash
# Stops what tests/slurm/start-cluster.sh started (slurmd, slurmctld, munged), by pid file, and
# removes the /etc/slurm/slurm.conf link it made. Keeps $AUTORESEARCH_SLURM_DIR (logs) unless
# --purge is given.
set -uo pipefail

dir=${AUTORESEARCH_SLURM_DIR:-/var/tmp/autoresearch-slurm}

stop() {  # stop PIDFILE NAME
  [ -s "$1" ] || return 0
  local pid
  pid=$(cat "$1")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$1"
  echo "stopped $2"
}

stop "$dir/slurmd.pid" slurmd
stop "$dir/slurmctld.pid" slurmctld
stop "$dir/munged.pid" munged
if [ "$(readlink /etc/slurm/slurm.conf 2>/dev/null)" = "$dir/slurm.conf" ]; then
  rm -f /etc/slurm/slurm.conf
fi
if [ "${1:-}" = "--purge" ]; then
  rm -rf "$dir"
fi
