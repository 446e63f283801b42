#!/usr/bin/env bash
# The main job on the embedded default, no server needed: CI packs rendered
# manifests into a signed artifact in an oci-layout: directory; a "cluster"
# verifies and syncs it atomically. Everything lands in ./demo/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/setup.sh
bash scripts/build.sh build
ocisync="$root/build/cli/ocisync"
demo="$root/demo"
rm -rf "$demo"
mkdir -p "$demo"
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { say "$*"; "$@"; }

export COSIGN_PASSWORD=demo-password
export SOURCE_DATE_EPOCH=1700000000
store="oci-layout:$demo/store"

run "$ocisync" keygen --prefix "$demo/cosign"
run "$ocisync" push "$store:v1.0.0,prod" testdata/manifests \
	--source https://git.example.com/shop/deploy --revision main@sha1:0123abcd --sign-key "$demo/cosign.key"
run "$ocisync" inspect "$store:prod"
run "$ocisync" verify --key "$demo/cosign.pub" "$store:prod"
run "$ocisync" pull --verify-key "$demo/cosign.pub" "$store:prod" "$demo/pulled"
run "$ocisync" diff "$store:prod" testdata/manifests
run "$ocisync" sync "$store:prod" --root "$demo/cluster" --once --verify-key "$demo/cosign.pub" \
	--path envs/prod-eu --status-file "$demo/status.json" --metrics-file "$demo/metrics.prom"
say "ls -l $demo/cluster/current/"
ls -l "$demo/cluster/current/"
say "cat $demo/status.json"
cat "$demo/status.json"
echo
printf '\nDemo finished: the artifact is in %s/store, the synced revision in %s/cluster/current.\n' "$demo" "$demo"
