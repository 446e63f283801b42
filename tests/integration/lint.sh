# ocisync lint and the policy gate in push: findings with file:line, exit
# codes, JSON, policies; push refuses before any request reaches the
# registry; the manifest records the policy (or that it was skipped); sync
# exports the recorded counts as metrics.
. "$(dirname "$0")/lib.sh"

cd "$WORK"
FIX="$TESTDATA/lint"

step "lint finds every fixture's violations with file and line"
run lint "$FIX/bad"
assert_eq "$RC" 1 "exit code of lint with error findings"
assert_contains "$OUT" 'helm-rendered.yaml:26: error image-unpinned: container "web" image "nginx:latest" uses the mutable tag latest (document 2)'
assert_contains "$OUT" 'list.yaml:12: error image-unpinned: container "app" image "registry.example.com:5000/app" has no tag'
assert_contains "$OUT" 'pod.json:7: error image-unpinned: container "redis" image "redis:latest"'
assert_contains "$OUT" 'secret.yaml:16: error plaintext-secret: Secret "api" carries its values in stringData'
assert_contains "$OUT" 'malformed.yaml:7: error invalid-yaml: not valid YAML'
assert_contains "$OUT" 'node-agent.yaml:13: warning privileged:'
assert_contains "$OUT" 'node-agent.yaml:17: warning host-path:'
assert_eq "$(echo "$OUT" | tail -1)" "7 files, 8 documents: 9 errors, 2 warnings" "summary line"
assert_eq "$(echo "$OUT" | grep -c ': error ')" 9 "error lines"

step "nothing valid is refused"
ok lint "$FIX/good"
assert_eq "$OUT" "4 files, 7 documents: 0 errors, 0 warnings"
ok lint "$TESTDATA/manifests"
assert_contains "$OUT" "0 errors, 0 warnings"

step "-o json: findings as objects"
run -o json lint "$FIX/bad"
assert_eq "$RC" 1
/usr/bin/python3 - "$OUT" <<'PY' || fail "lint JSON"
import json, sys
o = json.loads(sys.argv[1])
assert o["errors"] == 9 and o["warnings"] == 2 and o["files"] == 7, o
f = [x for x in o["findings"] if x["file"] == "cronjob.yaml"][0]
assert f == {"file": "cronjob.yaml", "rule": "image-unpinned", "severity": "error", "line": 15,
             "document": 1, "message": f["message"]}, f
assert "registry.example.com/report:latest" in f["message"]
PY
ok -o json lint --rules
assert_contains "$OUT" '{"rule":"plaintext-secret","default":"error"'

step "a policy file: severities, allow-lists, require-digest"
cat >"$WORK/policy.yaml" <<'EOF'
rules:
  image-unpinned: warning
  plaintext-secret: off
  privileged: error
allow:
  paths: [helm-rendered.yaml]
EOF
run lint --policy "$WORK/policy.yaml" "$FIX/bad"
assert_eq "$RC" 1
assert_not_contains "$OUT" "helm-rendered.yaml"
assert_not_contains "$OUT" "plaintext-secret"
assert_contains "$OUT" "cronjob.yaml:15: warning image-unpinned"
assert_contains "$OUT" "node-agent.yaml:13: error privileged"
run lint --require-digest "$FIX/good"
assert_eq "$RC" 1
assert_contains "$OUT" 'statefulset.json:2: error image-unpinned: container "db" image "postgres:16.2" is not pinned by digest'

step "usage errors: exit 2 and a message"
expect_fail 2 "lint takes PATH" lint
expect_fail 2 "no-such-dir" lint "$WORK/no-such-dir"
printf 'rules:\n  image-unpined: off\n' >"$WORK/typo.yaml"
expect_fail 2 "typo.yaml:2: unknown rule 'image-unpined'" lint --policy "$WORK/typo.yaml" "$FIX/good"
expect_fail 2 "no-such-policy.yaml" lint --policy "$WORK/no-such-policy.yaml" "$FIX/good"
expect_fail 2 "--no-policy excludes --policy" push "oci-layout:$WORK/x:v1" "$FIX/good" --no-policy --policy "$WORK/policy.yaml"
ok lint --help
assert_contains "$OUT" "--require-digest"

step "push refuses an error finding before any request"
start_registry
before=$(wc -l <"$REG_LOG")
run push "$REG/shop/bad:v1" "$FIX/bad"
assert_eq "$RC" 1 "exit code of a refused push"
assert_contains "$ERR" 'helm-rendered.yaml:26: error image-unpinned'
assert_contains "$ERR" 'secret.yaml:8: error plaintext-secret'
assert_contains "$ERR" "9 policy errors in what would be pushed; nothing was uploaded"
assert_eq "$OUT" "" "stdout of a refused push"
sleep 0.2
assert_eq "$(tail -n +"$((before + 1))" "$REG_LOG" | grep -c '/v2/' || true)" 0 "requests of a refused push"
run push "oci-layout:$WORK/refused" "$FIX/bad"
assert_eq "$RC" 1
[ ! -e "$WORK/refused" ] || fail "a refused push created the layout"
run -o json push "$REG/shop/bad:v1" "$FIX/bad"
assert_eq "$RC" 1
/usr/bin/python3 - "$OUT" <<'PY' || fail "JSON of a refused push"
import json, sys
o = json.loads(sys.argv[1])
assert o["error"]["code"] == "policy", o
assert o["policy"]["errors"] == 9 and len(o["policy"]["findings"]) == 11, o
PY

step "a clean push records the policy digest and counts"
mkdir -p "$WORK/warn"
cp "$FIX/bad/node-agent.yaml" "$FIX/good/deployment.yaml" "$WORK/warn/"
ok push "$REG/shop/app:v1" "$WORK/warn" --created 2024-01-02T03:04:05Z
assert_contains "$ERR" "node-agent.yaml:13: warning privileged"
ok manifest "$REG/shop/app:v1"
/usr/bin/python3 - "$OUT" <<'PY' || fail "policy annotations"
import json, sys
a = json.loads(sys.argv[1])["annotations"]
assert a["io.ocisync.policy"].startswith("sha256:") and len(a["io.ocisync.policy"]) == 71, a
assert json.loads(a["io.ocisync.policy.findings"]) == {"error": 0, "warning": 2}, a
PY
d1=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["annotations"]["io.ocisync.policy"])' "$OUT")
printf 'rules:\n  image-unpinned: warning\n' >"$WORK/policy2.yaml"
ok push "$REG/shop/app:v2" "$WORK/warn" --created 2024-01-02T03:04:05Z --require-digest --policy "$WORK/policy2.yaml"
assert_contains "$ERR" 'node-agent.yaml:11: warning image-unpinned: container "agent" image "registry.example.com/agent:2.1.0" is not pinned by digest'
ok manifest "$REG/shop/app:v2"
assert_not_contains "$OUT" "$d1" "a different policy's manifest"
ok -o json push "$REG/shop/app:v3" "$WORK/warn"
assert_contains "$OUT" '"policy":{"findings":[{"file":"node-agent.yaml"'

step "--no-policy pushes what lint refuses, and the manifest says so"
ok push "$REG/shop/bad:v1" "$FIX/bad" --no-policy
assert_contains "$ERR" "policy checks skipped (--no-policy)"
ok manifest "$REG/shop/bad:v1"
assert_contains "$OUT" '"io.ocisync.policy":"skipped"'
assert_not_contains "$OUT" "io.ocisync.policy.findings"
ok push "$REG/shop/bad:v2" "$FIX/bad" --no-policy -a io.ocisync.policy=sha256:forged
ok manifest "$REG/shop/bad:v2"
assert_contains "$OUT" '"io.ocisync.policy":"skipped"'

step "sync exports the recorded findings as metrics"
ok push "oci-layout:$WORK/store:v1" "$WORK/warn"
ok sync "oci-layout:$WORK/store:v1" --root "$WORK/root" --once --metrics-file "$WORK/m.prom"
m=$(cat "$WORK/m.prom")
LB="ref=\"oci-layout:$WORK/store:v1\",root=\"$WORK/root\",path=\"\"" # the labels of every series
assert_contains "$m" "ocisync_policy_checked{$LB} 1"
assert_contains "$m" "ocisync_policy_findings{$LB,severity=\"error\"} 0"
assert_contains "$m" "ocisync_policy_findings{$LB,severity=\"warning\"} 2"
ok push "oci-layout:$WORK/store:v2" "$WORK/warn" --no-policy
ok sync "oci-layout:$WORK/store:v2" --root "$WORK/root" --once --metrics-file "$WORK/m.prom"
m=$(cat "$WORK/m.prom")
assert_contains "$m" "ocisync_policy_checked{ref=\"oci-layout:$WORK/store:v2\",root=\"$WORK/root\",path=\"\"} 0"
assert_not_contains "$m" 'ocisync_policy_findings{'
echo "lint: ok"
