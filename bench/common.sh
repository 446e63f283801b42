# Shared by the benchmarks that run a registry: finds ocisync, gives a
# scratch directory and start_registry (tests/integration/lib.sh), and
# median. Source it after `set -euo pipefail`.
SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
: "${OCISYNC:=$SRCDIR/build/cli/ocisync}"
OCISYNC=$(realpath "$OCISYNC")
export OCISYNC SRCDIR
[ -x "$OCISYNC" ] || { echo "no ocisync at $OCISYNC (set OCISYNC)" >&2; exit 2; }
. "$SRCDIR/tests/integration/lib.sh"
export SOURCE_DATE_EPOCH=1700000000

# median of the numbers on stdin (mean of the middle two for an even count)
median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.6f\n", (a[NR/2]+a[NR/2+1])/2}'; }
