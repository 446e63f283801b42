#!/usr/bin/env bash
# Configures (once) and builds ocisync into BUILD_DIR (default build/).
# Extra arguments go to `meson setup` the first time, e.g. -Db_sanitize=address,undefined.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-build}
shift || true
cd "$root"
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "$@" >/dev/null
fi
ninja -C "$dir" >/dev/null
