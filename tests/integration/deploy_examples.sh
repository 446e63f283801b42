#!/bin/bash
# The deploy/ examples cannot rot: tests/deploy_examples.py checks the YAML's
# structure (python3-yaml; kubectl is not needed) and that every ocisync
# command line in them uses options its --help lists and parses (run against
# an unreachable registry: never a usage error).
. "$(dirname "$0")/lib.sh"

python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is needed (scripts/deps.txt)"
mkdir -p "$WORK/keys"
COSIGN_PASSWORD=ocisync-test ok keygen --prefix "$WORK/keys/cosign"
python3 "$SRCDIR/tests/deploy_examples.py" "$OCISYNC" "$SRCDIR/deploy" "$WORK" ||
	fail "the deploy/ examples do not check out (above)"

step "the checker catches what it is for"
cp -r "$SRCDIR/deploy" "$WORK/broken"
sed -i 's/--jitter=10/--jiter=10/' "$WORK/broken/kubernetes/deployment.yaml"
sed -i 's/ocisync copy --with-signatures/ocisync copy --with-signature/' "$WORK/broken/ci/gitlab-ci.yml"
sed -i 's|mountPath: /etc/ocisync/keys, readOnly: true|mountPath: /etc/ocisync/other, readOnly: true|' "$WORK/broken/kubernetes/cronjob.yaml"
rm -rf "$WORK/fs" "$WORK/ci"
set +e
python3 "$SRCDIR/tests/deploy_examples.py" "$OCISYNC" "$WORK/broken" "$WORK" 2>"$WORK/broken.err"
rc=$?
set -e
assert_eq "$rc" 1 "the checker's exit status on broken examples"
err=$(grep '^FAIL' "$WORK/broken.err")
assert_contains "$err" "--jiter is in no --help of ocisync sync"
assert_contains "$err" "--with-signature is in no --help of ocisync copy"
assert_contains "$err" "--verify-key /etc/ocisync/keys/cosign.pub is on no mount"
assert_contains "$err" "does not parse"
