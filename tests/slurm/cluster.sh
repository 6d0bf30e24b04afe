#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, for tests/workflow/test_slurm.py (and by hand: README).
#
#   tests/slurm/cluster.sh install       # apt: slurmctld slurmd slurm-client munge (root)
#   tests/slurm/cluster.sh start DIR     # generate DIR/slurm.conf + gres.conf, start munged, slurmctld, slurmd
#   tests/slurm/cluster.sh stop DIR      # stop the daemons started from DIR
#
# Every file the cluster writes (state, spool, logs, pid files) lives in DIR, except munged's
# socket (/run/munge) and slurmd's copy of the configuration (/run/slurm/conf), both where
# SLURM's client commands look for them. The node offers its CPUs and memory and two
# stand-in GPUs (`Gres=gpu:2`, device files /dev/null and /dev/zero), so that jobs that
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
SlurmctldParameters=enable_configless
NodeName=$host CPUs=$cpus RealMemory=$mem Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
    # Two stand-in GPUs (one per core), each needing a device file: slurmd reads gres.conf
    # next to slurm.conf.
    printf 'Name=gpu File=/dev/null\nName=gpu File=/dev/zero\n' > "$dir/gres.conf"

    # munge on its default socket (/run/munge/munge.socket.2, the package's key): a slurmd
    # that fetches its configuration from slurmctld must authenticate before it has read
    # any AuthInfo. A munged already serving that socket is used as it is.
    if ! (munge -n | unmunge) >/dev/null 2>&1; then
        mkdir -p /run/munge
        chown munge:munge /run/munge
        chmod 755 /run/munge
        runuser -u munge -- /usr/sbin/munged || die "munged did not start (see /var/log/munge/munged.log)"
        wait_for 10 munged bash -c "munge -n | unmunge"
        cat /run/munge/munged.pid > "$dir/run/munged.started"
    fi

    export SLURM_CONF="$dir/slurm.conf"
    setsid /usr/sbin/slurmctld -D -i -f "$dir/slurm.conf" >"$dir/log/slurmctld.out" 2>&1 &
    echo $! > "$dir/run/slurmctld.daemon"
    wait_for 30 "slurmctld (see $dir/log/slurmctld.log)" scontrol ping
    # slurmd fetches the configuration from slurmctld ("configless") and links its copy at
    # /run/slurm/conf, where client commands in a job find it even when SLURM_CONF is not
    # passed on (the executor's jobstep plugin removes SLURM_* variables before its srun).
    setsid env -u SLURM_CONF /usr/sbin/slurmd -D --conf-server "$host" >"$dir/log/slurmd.out" 2>&1 &
    echo $! > "$dir/run/slurmd.daemon"
    wait_for 30 "node $host to be idle (see $dir/log/slurmd.log)" \
        bash -c "sinfo -h -N -o '%t' | grep -qx 'idle'"
    echo "cluster up: SLURM_CONF=$dir/slurm.conf"
}

stop() {
    local dir; dir=$(realpath -m "$1")
    # Cancel what is still queued or running (a test that timed out) and wait for the jobs
    # to end, then, as slurmd with proctrack/linuxproc can leave a job's processes behind,
    # end the process groups of the batch scripts it started from DIR.
    if [ -f "$dir/run/slurmctld.daemon" ]; then
        export SLURM_CONF="$dir/slurm.conf"
        timeout 10 scancel --full --partition=debug 2>/dev/null || true
        for _ in $(seq 40); do
            [ -z "$(timeout 5 squeue -h -o %i 2>/dev/null)" ] && break
            sleep 0.5
        done
    fi
    for pid in $(pgrep -f "$dir/spool/job[0-9]+/slurm_script" || true); do
        kill -9 -- "-$(ps -o pgid= -p "$pid" | tr -d ' ')" 2>/dev/null || true
    done
    for daemon in slurmd slurmctld; do
        if [ -f "$dir/run/$daemon.daemon" ]; then
            kill "$(cat "$dir/run/$daemon.daemon")" 2>/dev/null || true
        fi
    done
    # slurmd's link to its copy of the configuration, if it points into DIR.
    if [ -L /run/slurm/conf ] && [[ "$(readlink /run/slurm/conf)" == "$dir"/* ]]; then
        rm -f /run/slurm/conf
    fi
    if [ -f "$dir/run/munged.started" ]; then
        kill "$(cat "$dir/run/munged.started")" 2>/dev/null || true
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
