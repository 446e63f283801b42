#!/usr/bin/env bash
# Runs the fault loops longer than CI does: SIGKILL at random instants of
# sync, push, tag, pull and copy (tests/integration/fault_kill.sh) and the
# sync-only loop (tests/integration/sync_kill.sh), against a loopback
# docker-registry.
#   scripts/faults.sh [ROUNDS] [BUILD_DIR]
# ROUNDS: kills per operation (default 100; CI runs 4, sync_kill 50).
# FAULT_CHECK_TEMPORARIES=1 also fails when a killed push/pull left
# temporaries that clean runs did not remove.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-100}
dir=${2:-build}
cd "$root"
bash scripts/build.sh "$dir"
export OCISYNC=$root/$dir/cli/ocisync SRCDIR=$root TESTDATA=$root/testdata BUILDDIR=$root/$dir
echo "== fault_kill.sh, $rounds kills per operation"
FAULT_ROUNDS=$rounds bash tests/integration/fault_kill.sh
echo "== sync_kill.sh, $((rounds * 2)) kills"
SYNC_KILL_RUNS=$((rounds * 2)) bash tests/integration/sync_kill.sh
