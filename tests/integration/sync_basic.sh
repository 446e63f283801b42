# sync against a real registry: first publish, a no-change sync costs one
# request and writes nothing but its state/status/metrics, new pushes are
# picked up incrementally (hard links), --keep, --path, reports, usage errors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

start_registry
cd "$WORK"
src="$WORK/src"
cp -a "$TESTDATA/manifests" "$src"
for i in $(seq 1 40); do printf 'kind: ConfigMap\nmetadata:\n  name: cm-%s\n' "$i" >"$src/base/cm-$i.yaml"; done
REF="$REG/shop/app:prod"
R="$WORK/root"
S="$WORK/status.json"
M="$WORK/metrics.prom"
LB="ref=\"$REF\",root=\"$R\",path=\"\"" # the labels of every series

step "first sync publishes through the link"
ok push "$REF" "$src" --source https://git.example/shop --revision main@sha1:aaa --created 2024-01-02T03:04:05Z
d1=${OUT##*@}
ok sync "$REF" --root "$R" --once --status-file "$S" --metrics-file "$M"
assert_eq "$OUT" "synced $d1 ($REF)"
assert_eq "$(link_hex "$R")" "${d1#sha256:}" "link target"
assert_eq "$(readlink "$R/current")" ".revisions/${d1#sha256:}" "relative link"
check_link "$R"
same_tree "$src" "$R/current"
[ -x "$R/current/hooks/post-sync.sh" ] || fail "execute bit lost"
[ -z "$(find -L "$R/current" -type f -perm /222)" ] || fail "published files are writable"
st=$(cat "$S")
assert_contains "$st" '"result": "synced"'
assert_contains "$st" "\"digest\": \"$d1\""
assert_contains "$st" '"source": "https://git.example/shop"'
assert_contains "$st" '"revision": "main@sha1:aaa"'
assert_contains "$st" '"created": "2024-01-02T03:04:05Z"'
assert_contains "$st" '"error": null'
m=$(cat "$M")
assert_contains "$m" "ocisync_sync_total{$LB,result=\"synced\"} 1"
assert_contains "$m" "ocisync_artifact_info{$LB,digest=\"$d1\",revision=\"main@sha1:aaa\",source=\"https://git.example/shop\"} 1"
assert_contains "$m" "ocisync_artifact_created_timestamp_seconds{$LB} 1704164645.000"
assert_contains "$m" '# TYPE ocisync_lead_time_seconds gauge'
for name in ocisync_last_sync_timestamp_seconds ocisync_last_success_timestamp_seconds \
	ocisync_sync_duration_seconds ocisync_hook_failures_total ocisync_lead_time_seconds; do
	assert_contains "$m" "# HELP $name " "metrics"
	assert_contains "$m" "
$name{$LB} " "metrics"
done
[ "$(stat -c %a "$M")" = 644 ] || fail "metrics file mode"

step "a sync with no change: one HEAD, nothing written but state/status/metrics"
before=$(tree_listing "$R")
s_ino=$(stat -c %i "$S")
reg_mark nochange-a
ok sync "$REF" --root "$R" --once --status-file "$S" --metrics-file "$M"
reg_mark nochange-b
assert_eq "$OUT" "unchanged $d1"
reqs=$(requests_between nochange-a nochange-b)
assert_eq "$reqs" "HEAD /v2/shop/app/manifests/prod" "requests of a no-change sync"
after=$(tree_listing "$R")
[ "$before" = "$after" ] || fail "a no-change sync changed the tree:
$(diff <(echo "$before") <(echo "$after"))"
[ "$(stat -c %i "$S")" != "$s_ino" ] || fail "status file not replaced (atomic rename)"
assert_contains "$(cat "$S")" '"result": "unchanged"'
assert_contains "$(cat "$M")" "ocisync_sync_total{$LB,result=\"unchanged\"} 1"

step "temporary report files a killed run left are removed; other files stay"
touch "$S.tmp.AbC123" "$M.tmp.x9Y8z7" "$S.tmp.notours-longer" "$S.bak"
ok sync "$REF" --root "$R" --once --status-file "$S" --metrics-file "$M"
[ ! -e "$S.tmp.AbC123" ] && [ ! -e "$M.tmp.x9Y8z7" ] || fail "leftover report temporaries kept"
[ -e "$S.tmp.notours-longer" ] && [ -e "$S.bak" ] || fail "removed a file that is not a leftover"
rm -f "$S.tmp.notours-longer" "$S.bak"

step "counters survive restarts (kept in the state)"
ok sync "$REF" --root "$R" --once --metrics-file "$M"
assert_contains "$(cat "$M")" "ocisync_sync_total{$LB,result=\"unchanged\"} 3"
assert_contains "$(cat "$M")" "ocisync_sync_total{$LB,result=\"synced\"} 1"

step "a new push is picked up; unchanged files are hard links to the previous revision"
printf 'kind: ConfigMap\nmetadata:\n  name: changed\n' >"$src/base/cm-7.yaml"
ok push "$REF" "$src" --revision main@sha1:bbb --created 2024-01-02T03:04:05Z
d2=${OUT##*@}
[ "$d2" != "$d1" ] || fail "push did not change the digest"
ok -o json sync "$REF" --root "$R" --once --status-file "$S"
assert_contains "$OUT" '"result":"synced"'
assert_contains "$OUT" "\"digest\":\"$d2\""
assert_contains "$OUT" "\"previous_digest\":\"$d1\""
assert_contains "$OUT" '"files_written":1'
assert_eq "$(link_hex "$R")" "${d2#sha256:}"
same_tree "$src" "$R/current"
r1="$R/.revisions/${d1#sha256:}" r2="$R/.revisions/${d2#sha256:}"
check_revision "$r1"
check_revision "$r2"
assert_eq "$(stat -c %i "$r1/base/deployment.yaml")" "$(stat -c %i "$r2/base/deployment.yaml")" "inode of an unchanged file"
[ "$(stat -c %i "$r1/base/cm-7.yaml")" != "$(stat -c %i "$r2/base/cm-7.yaml")" ] || fail "changed file shares its inode"
assert_contains "$(cat "$r1/base/cm-7.yaml")" "cm-7" "the older revision keeps its own content"
assert_contains "$(cat "$S")" "\"previous_digest\": \"$d1\""

step "--keep 2 leaves exactly two revisions, the current one among them"
echo "extra: 3" >"$src/base/extra.yaml"
ok push "$REF" "$src" --created 2024-01-02T03:04:05Z
d3=${OUT##*@}
ok sync "$REF" --root "$R" --once --keep 2
revs=$(cd "$R/.revisions" && ls -A | sort | tr '\n' ' ')
want=$(printf '%s\n' "${d2#sha256:}" "${d2#sha256:}.index" "${d3#sha256:}" "${d3#sha256:}.index" | sort | tr '\n' ' ')
assert_eq "$revs" "$want" "revisions after --keep 2"
check_revision "$R/.revisions/${d2#sha256:}"
check_link "$R"
rm "$src/base/extra.yaml"
ok push "$REF" "$src" --revision main@sha1:bbb --created 2024-01-02T03:04:05Z
assert_eq "${OUT##*@}" "$d2" "the same tree pushed again gives the same digest"
ok -o json sync "$REF" --root "$R" --once --keep 2
assert_contains "$OUT" '"reused_revision":true' "the kept revision is published again, not re-extracted"
assert_contains "$OUT" "\"digest\":\"$d2\""
assert_eq "$(cd "$R/.revisions" && ls -A | sort | tr '\n' ' ')" "$want" "revisions after publishing a kept one again"
# --keep holds on an unchanged run too: the older revision and its index go now
ok sync "$REF" --root "$R" --once --keep 1
assert_eq "$OUT" "unchanged $d2"
assert_eq "$(cd "$R/.revisions" && ls -A | tr '\n' ' ')" "${d2#sha256:} ${d2#sha256:}.index " \
	"--keep 1 on an unchanged sync"
check_link "$R"
# and with nothing beyond --keep, an unchanged run leaves the tree as it was
before=$(tree_listing "$R")
ok sync "$REF" --root "$R" --once --keep 1
assert_eq "$OUT" "unchanged $d2"
assert_eq "$(tree_listing "$R")" "$before" "an unchanged sync with nothing to prune"

step "--path publishes only that folder"
P="$WORK/root-prod"
ok sync "$REF" --root "$P" --once --path envs/prod-eu --link prod
[ -f "$P/prod/configmap.yaml" ] || fail "--path did not publish envs/prod-eu at the top"
assert_eq "$(cd "$P/prod" && find . -mindepth 1 | sort | tr '\n' ' ')" "./configmap.yaml " "files under --path"
check_link "$P" prod
expect_fail 1 "$P holds revisions of the folder envs/prod-eu; a different folder needs its own root (one --root per --path)" \
	sync "$REF" --root "$P" --once --link prod --path envs/staging --status-file "$WORK/status-path.json"
/usr/bin/python3 - "$WORK/status-path.json" <<'PY' || fail "status file after another --path"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["result"] == "error" and s["error_kind"] == "invalid input", s
assert s["error"].endswith("holds revisions of the folder envs/prod-eu; a different folder needs its own root"), s
assert s["hint"] == "root_per_path", s
PY
expect_fail 1 "envs/nowhere" sync "$REF" --root "$WORK/root-none" --once --path envs/nowhere
[ ! -e "$WORK/root-none/current" ] || fail "a failed --path sync published a link"

step "a missing tag: exit 1, the message names it, the link stays"
cur=$(link_hex "$R")
expect_fail 1 "nosuchtag" sync "$REG/shop/app:nosuchtag" --root "$R" --once --status-file "$S"
assert_eq "$(link_hex "$R")" "$cur" "link after a failed sync"
assert_contains "$(cat "$S")" '"result": "error"'
assert_contains "$(cat "$S")" 'nosuchtag'

step "usage errors: exit 2, nothing written"
expect_fail 2 "sync needs --root DIR" sync "$REF" --once
expect_fail 2 "--once and --interval exclude each other" sync "$REF" --root "$WORK/u" --once --interval 5s
expect_fail 2 "--interval takes a duration" sync "$REF" --root "$WORK/u" --interval soon
expect_fail 2 "--keep takes a number" sync "$REF" --root "$WORK/u" --once --keep 0
expect_fail 2 "--exec-timeout takes a duration" sync "$REF" --root "$WORK/u" --once --exec true --exec-timeout -1s
expect_fail 2 "--max-failures takes a number" sync "$REF" --root "$WORK/u" --max-failures x
expect_fail 2 "--link takes a plain name" sync "$REF" --root "$WORK/u" --once --link ../x
expect_fail 2 "semver range '>=1 <banana'" sync "$REG/shop/app" --root "$WORK/u" --once --semver '>=1 <banana'
expect_fail 2 "sync takes one REF" sync --root "$WORK/u" --once
expect_fail 2 "unknown option --frobnicate" sync "$REF" --root "$WORK/u" --frobnicate
[ ! -e "$WORK/u" ] || fail "a usage error created the root"
ok sync --help
assert_contains "$OUT" "--semver RANGE"

step "a link that is not ours is refused, untouched"
mkdir -p "$WORK/foreign" && ln -s /etc "$WORK/foreign/current"
expect_fail 1 "not to a revision made by ocisync sync" sync "$REF" --root "$WORK/foreign" --once
assert_eq "$(readlink "$WORK/foreign/current")" "/etc"

step "a symlinked .revisions is refused; the directory it names is untouched"
# Before the fix sync emptied the target as "leftovers" and published there.
mkdir -p "$WORK/victim" "$WORK/evil"
echo keep >"$WORK/victim/precious.txt"
mkdir "$WORK/victim/sub" && echo keep >"$WORK/victim/sub/also.txt"
ln -s "$WORK/victim" "$WORK/evil/.revisions"
victim_before=$(cd "$WORK/victim" && find . -printf '%p %s %T@\n' | sort)
expect_fail 1 ".revisions is a symlink" sync "$REF" --root "$WORK/evil" --once
[ ! -e "$WORK/evil/current" ] && [ ! -L "$WORK/evil/current" ] || fail "published through a symlinked .revisions"
assert_eq "$(cd "$WORK/victim" && find . -printf '%p %s %T@\n' | sort)" "$victim_before" "the symlink's target"
echo "sync_basic: ok"
