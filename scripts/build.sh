#!/usr/bin/env bash
# Configures (once) and builds ocisync into BUILD_DIR (default build/).
# Extra arguments go to `meson setup` the first time, e.g. -Db_sanitize=address,undefined.
# Quiet when it works; prints the tool's output when it does not.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
cd "$root"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if [ ! -f "$dir/build.ninja" ]; then
	if ! meson setup "$dir" "$@" >"$log" 2>&1; then
		cat "$log" >&2
		exit 1
	fi
fi
if ! ninja -C "$dir" >"$log" 2>&1; then
	grep -E 'error|Error|FAILED|undefined' "$log" | head -40 >&2 || cat "$log" >&2
	exit 1
fi
