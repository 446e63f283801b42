# push to an oci-layout: directory and pull back the same files; tags,
# resolve, manifest, inspect, diff and copy on layouts.
. "$(dirname "$0")/lib.sh"

src="$WORK/src"
cp -a "$TESTDATA/manifests" "$src"
cd "$WORK"

step "push prints the pinned reference"
ok push "oci-layout:$WORK/store:v1,prod" "$src" --source https://git.example/shop --revision main@sha1:abc -a team=shop
digest=${OUT##*@}
assert_eq "$OUT" "oci-layout:$WORK/store@$digest"
[ -f store/oci-layout ] && [ -f store/index.json ] || fail "layout files missing"
ok resolve "oci-layout:$WORK/store:prod"
assert_eq "$OUT" "$digest" "prod resolves to the pushed digest"

step "pull gives back the same files and execute bits"
ok pull "oci-layout:$WORK/store:v1" "$WORK/out"
assert_eq "$OUT" "oci-layout:$WORK/store@$digest"
same_tree "$src" "$WORK/out"
[ -x "$WORK/out/hooks/post-sync.sh" ] || fail "execute bit lost"

step "pull by digest, and --path publishes one folder"
ok pull "oci-layout:$WORK/store@$digest" "$WORK/prod" --path envs/prod-eu
same_tree "$src/envs/prod-eu" "$WORK/prod"

step "pull refuses a non-empty directory without --force, replaces it with --force"
expect_fail 1 "is not empty (use --force" pull "oci-layout:$WORK/store:v1" "$WORK/out"
echo stale >"$WORK/out/stale.txt"
ok pull --force "oci-layout:$WORK/store:v1" "$WORK/out"
[ ! -e "$WORK/out/stale.txt" ] || fail "--force kept an old file"
same_tree "$src" "$WORK/out"
leftovers=$(find "$WORK" -maxdepth 1 -name '.*ocisync*')
assert_eq "$leftovers" "" "temporary files left beside the destination"

step "manifest prints the stored bytes; its sha256 is the digest"
ok manifest "oci-layout:$WORK/store:v1"
got="sha256:$(printf '%s' "$OUT" | sha256sum | cut -d' ' -f1)"
assert_eq "$got" "$digest" "manifest bytes hash"
assert_contains "$OUT" '"artifactType":"application/vnd.ocisync.manifests.v1"'
assert_contains "$OUT" '"org.opencontainers.image.source":"https://git.example/shop"'
assert_contains "$OUT" '"team":"shop"'

step "inspect, text and json"
ok inspect "oci-layout:$WORK/store:v1"
assert_contains "$OUT" "Digest:        $digest"
assert_contains "$OUT" "Signatures:    0 (unsigned)"
ok inspect -o json "oci-layout:$WORK/store:v1"
assert_eq "$(printf '%s' "$OUT" | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["digest"], d["layers"][0]["mediaType"], d["signatures"])')" \
	"$digest application/vnd.oci.image.layer.v1.tar+gzip 0"

step "tag adds tags without changing the digest; tags lists them"
ok tag "oci-layout:$WORK/store:v1" stable,v1.0.0
assert_eq "$OUT" "oci-layout:$WORK/store@$digest"
ok tags "oci-layout:$WORK/store"
assert_eq "$(echo "$OUT" | sort | tr '\n' ' ')" "prod stable v1 v1.0.0 " "tags"
ok resolve "oci-layout:$WORK/store:stable"
assert_eq "$OUT" "$digest"

step "re-tagging replaces the index entry"
echo "changed" >"$src/base/extra.yaml"
ok push "oci-layout:$WORK/store:v1" "$src"
d2=${OUT##*@}
cp -a "$src" "$WORK/src-d2"
[ "$d2" != "$digest" ] || fail "a changed tree gave the same digest"
count=$(/usr/bin/python3 -c 'import json,sys; print(sum(1 for m in json.load(open(sys.argv[1]))["manifests"] if m.get("annotations",{}).get("org.opencontainers.image.ref.name")=="v1"))' store/index.json)
assert_eq "$count" "1" "index entries named v1"

step "diff: same, added, removed, modified (exit 0 / 1)"
ok diff "oci-layout:$WORK/store:v1" "$src"
assert_eq "$OUT" ""
echo more >>"$src/base/service.yaml"
rm "$src/base/extra.yaml"
echo new >"$src/base/new.yaml"
run diff "oci-layout:$WORK/store:v1" "$src"
assert_eq "$RC" "1" "diff exit code when trees differ"
assert_eq "$OUT" "- base/extra.yaml
+ base/new.yaml
M base/service.yaml"
chmod +x "$src/base/namespace.yaml"
run diff "oci-layout:$WORK/store:v1" "$src"
assert_contains "$OUT" "M base/namespace.yaml" "mode change"
expect_fail 2 "not found" diff "oci-layout:$WORK/store:nosuch" "$src"

step "copy between layouts keeps the digest"
ok copy "oci-layout:$WORK/store:v1" "oci-layout:$WORK/copy:release"
assert_eq "$OUT" "oci-layout:$WORK/copy@$d2"
ok pull "oci-layout:$WORK/copy:release" "$WORK/copied"
same_tree "$WORK/src-d2" "$WORK/copied"
ok manifest "oci-layout:$WORK/store:v1"
m_src=$OUT
ok manifest "oci-layout:$WORK/copy:release"
assert_eq "$OUT" "$m_src" "manifest bytes of the copy"

step "json output of push and pull"
ok -o json push "oci-layout:$WORK/store:json" "$TESTDATA/manifests"
/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["digest"].startswith("sha256:") and d["tags"]==["json"], d' "$OUT"
jd=$(/usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])["digest"])' "$OUT")
ok -o json pull "oci-layout:$WORK/store:json" "$WORK/json-out"
/usr/bin/python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["digest"]==sys.argv[2], d' "$OUT" "$jd" ||
	fail "pull -o json names another digest than the push: $OUT"
same_tree "$TESTDATA/manifests" "$WORK/json-out"

step "errors: missing tag, bad reference, missing path"
expect_fail 1 "tag 'nosuch' not found" resolve "oci-layout:$WORK/store:nosuch"
expect_fail 2 "must start with" resolve "oci-layout:$WORK/store:-x"
expect_fail 1 "$WORK/nothere" push "oci-layout:$WORK/store:v9" "$WORK/nothere"
expect_fail 2 "push takes REF and PATH" push "oci-layout:$WORK/store:v9"
expect_fail 2 "unknown option --bogus" pull --bogus "oci-layout:$WORK/store:v1" x
echo "ok"
