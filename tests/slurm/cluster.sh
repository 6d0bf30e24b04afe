#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/test_slurm.py (and by hand: README).
#
#   tests/slurm/cluster.sh install       # apt: slurmctld slurmd slurm-client munge (root)
#   tests/slurm/cluster.sh start DIR     # generate DIR/slurm.conf + gres.conf, start munged, slurmctld, slurmd
#   tests/slurm/cluster.sh stop DIR      # stop the daemons started from DIR
#
# Every file the cluster writes (state, spool, logs, pid files, its own munge socket) lives
# in DIR, so nothing outside it is changed except the installed packages. The node offers
# its CPUs and memory and two stand-in GPUs (`Gres=gpu:2`, device files /dev/null and /dev/zero), so that jobs that
# ask for `--gpus=1` are scheduled on a machine without one. Accounting is off: the workflow
# queries job states with squeue (--slurm-status-command squeue), and every finished job is
# recorded by jobcomp/filetxt in DIR/log/jobcomp.txt.
set -euo pipefail

PACKAGES=(slurmctld slurmd slurm-client munge)

die() { echo "cluster.sh: $*" >&2; exit 1; }

install() {
    [ "$(id -u)" = 0 ] || die "installing ${PACKAGES[*]} needs root (uid is $(id -u))"
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null \
       && command -v munged >/dev/null; then
        return 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null \
        || die "apt-get install ${PACKAGES[*]} failed"
}

munge_dir() {  # munged's directory for the cluster in DIR
    echo "/run/innerloop-munge/$(printf %s "$1" | md5sum | cut -c1-12)"
}

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
    local seconds=$1 what=$2; shift 2
    for _ in $(seq "$((seconds * 2))"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.5
    done
    die "timed out after ${seconds}s waiting for $what"
}

start() {
    local dir; dir=$(realpath -m "$1")
    [ "$(id -u)" = 0 ] || die "starting slurmctld/slurmd as configured here needs root (uid is $(id -u))"
    mkdir -p "$dir"/{state,spool,log,run}
    local host cpus mem
    host=$(hostname -s)
    cpus=$(nproc)
    # RealMemory a little under the machine's, in MB (slurmd refuses a node that claims more).
    mem=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)

    cat > "$dir/slurm.conf" <<CONF
ClusterName=innerloop
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
ReturnToService=2
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
SlurmctldDebug=info
DebugFlags=Gres
SlurmdDebug=info
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
MinJobAge=300
DefMemPerCPU=1000
SchedulerType=sched/backfill
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    # Two stand-in GPUs (one per core), each needing a device file: slurmd reads gres.conf
    # next to slurm.conf.
    printf 'Name=gpu File=/dev/null\nName=gpu File=/dev/zero\n' > "$dir/gres.conf"

    # munged with its own socket (the package's key); the slurm daemons and clients find it
    # through slurm.conf's AuthInfo. munged insists that every directory above its socket
    # be searchable by all, which a 0700 test directory is not: its files go under /run.
    local munge; munge=$(munge_dir "$dir")
    mkdir -p "$munge"
    chmod 755 "$(dirname "$munge")"
    chown munge:munge "$munge"
    chmod 755 "$munge"
    echo "AuthInfo=socket=$munge/munge.socket" >> "$dir/slurm.conf"
    runuser -u munge -- /usr/sbin/munged --socket="$munge/munge.socket" \
        --pid-file="$munge/munged.pid" --log-file="$munge/munged.log" \
        --seed-file="$munge/munged.seed" \
        || die "munged did not start (see $munge/munged.log)"
    wait_for 10 munged test -S "$munge/munge.socket"

    export SLURM_CONF="$dir/slurm.conf"
    setsid /usr/sbin/slurmctld -D -i -f "$dir/slurm.conf" >"$dir/log/slurmctld.out" 2>&1 &
    echo $! > "$dir/run/slurmctld.daemon"
    wait_for 30 "slurmctld (see $dir/log/slurmctld.log)" scontrol ping
    setsid /usr/sbin/slurmd -D -f "$dir/slurm.conf" >"$dir/log/slurmd.out" 2>&1 &
    echo $! > "$dir/run/slurmd.daemon"
    wait_for 30 "node $host to be idle (see $dir/log/slurmd.log)" \
        bash -c "sinfo -h -N -o '%t' | grep -qx 'idle'"
    echo "cluster up: SLURM_CONF=$dir/slurm.conf"
}

stop() {
    local dir; dir=$(realpath -m "$1")
    for daemon in slurmd slurmctld; do
        if [ -f "$dir/run/$daemon.daemon" ]; then
            kill "$(cat "$dir/run/$daemon.daemon")" 2>/dev/null || true
        fi
    done
    local munge; munge=$(munge_dir "$dir")
    if [ -f "$munge/munged.pid" ]; then
        kill "$(cat "$munge/munged.pid")" 2>/dev/null || true
    fi
    for daemon in slurmd slurmctld; do
        if [ -f "$dir/run/$daemon.daemon" ]; then
            pid=$(cat "$dir/run/$daemon.daemon")
            for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
}

case "${1:-}" in
    install) install ;;
    start) [ $# -eq 2 ] || die "usage: $0 start DIR"; start "$2" ;;
    stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"; stop "$2" ;;
    *) die "usage: $0 install | start DIR | stop DIR" ;;
esac
