#!/usr/bin/env bash
# `make test`: the three suites as two pytest processes at once, each line prefixed with its
# process's name.
#
#   [workflow]  tests/workflow: Snakemake end to end. Its time goes to subprocesses (the smoke
#               DAG, the Omniglot preset, the resume runs, the SLURM cluster), two cores' worth
#               at times and waiting on them at others.
#   [library]   tests/unit and tests/algorithms: the library in the test process, one core.
#
# One process after the other left a core idle for much of the run (141% of one core over
# 13 min at ae1bad3); side by side the two fill both cores. The smoke DAG is needed by the
# workflow suite alone, so it still runs once. Both processes must pass, and each must run
# a test: pytest exits 5 when it collects none, which must not pass silently.
# Extra arguments go to both pytest processes (e.g. `-x`, `-m "not slurm"`).
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=${PYTEST:-.venv/bin/pytest}

suite() {  # name, then pytest's arguments; its exit status is pytest's
    local name=$1
    shift
    "$PYTEST" -ra --durations=15 "$@" 2>&1 | sed -u "s/^/[$name] /"
    return "${PIPESTATUS[0]}"
}

# Stopped (Ctrl-C, a CI timeout): stop both pytest processes (this process group); the
# workflow processes they started die with them (tests/workflow_copy.py, die_with_parent).
trap 'trap - INT TERM; kill -TERM 0' INT TERM
suite workflow tests/workflow "$@" &
workflow=$!
suite library tests/unit tests/algorithms "$@" &
library=$!

status=0
check() {  # name, pytest's exit status
    if [ "$2" -eq 5 ]; then
        echo "[$1] pytest collected no tests"
    fi
    if [ "$2" -ne 0 ]; then
        echo "[$1] failed (pytest exit status $2)"
        status=1
    fi
}
wait $workflow
check workflow $?
wait $library
check library $?
exit $status
