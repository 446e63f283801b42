#!/usr/bin/env bash
# Installs the Debian packages in scripts/deps.txt that are missing
# (with sudo when not root). Safe to run again: it does nothing when all
# are present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mapfile -t wanted < <(grep -v '^\s*#' "$here/deps.txt" | sed 's/\s*#.*//' | grep -v '^\s*$')
missing=()
# A package counts as present when installed, or provided by an installed
# one (NodeSource's nodejs provides npm and conflicts with Debian's).
provided=$(dpkg-query -W -f='${db:Status-Abbrev} ${Provides}\n' 2>/dev/null | awk '$1 == "ii" { $1 = ""; print }' |
	tr ',' '\n' | sed 's/(.*)//; s/^ *//; s/ *$//' | sort -u)
for p in "${wanted[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' &&
		! grep -qx -- "$p" <<<"$provided"; then
		missing+=("$p")
	fi
done
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi
echo "setup: installing ${missing[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
