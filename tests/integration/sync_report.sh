# sync's status and metrics files as a fleet reads them: every series
# carries ref, root and path (two syncs on one node are distinct series);
# previous_digest is the last digest different from the current one (the
# rollback target survives unchanged runs); a report file whose directory
# does not exist is a usage error before anything is published.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

cd "$WORK"
src="$WORK/src"
make_manifests "$src"
L="$WORK/layout"
REF="oci-layout:$L:prod"
S="$WORK/status.json"
M="$WORK/metrics.prom"
ok push "$REF" "$src"
d1=${OUT##*@}

step "two syncs on one node: every series of each file carries its ref, root and path"
ok sync "$REF" --root "$WORK/a" --once --metrics-file "$WORK/a.prom"
ok sync "$REF" --root "$WORK/b" --once --path apps --metrics-file "$WORK/b.prom"
for x in a b; do
	p=""
	[ "$x" = b ] && p=apps
	series=$(grep -v '^#' "$WORK/$x.prom")
	[ -n "$series" ] || fail "$x.prom has no series"
	bad=$(grep -v '^#' "$WORK/$x.prom" | grep -vF "{ref=\"$REF\",root=\"$WORK/$x\",path=\"$p\"" || true)
	[ -z "$bad" ] || fail "series of $x.prom without ref/root/path labels: $bad"
done
assert_contains "$(cat "$WORK/a.prom")" "ocisync_sync_total{ref=\"$REF\",root=\"$WORK/a\",path=\"\",result=\"synced\"} 1"
assert_contains "$(cat "$WORK/a.prom")" "ocisync_artifact_info{ref=\"$REF\",root=\"$WORK/a\",path=\"\",digest=\"$d1\""
# node_exporter refuses the same series (name and labels) in two files
dups=$(cat "$WORK/a.prom" "$WORK/b.prom" | grep -v '^#' | sed 's/ [^ ]*$//' | sort | uniq -d)
[ -z "$dups" ] || fail "series in both files: $dups"

step "previous_digest: the last different digest, also after unchanged runs"
R="$WORK/root"
ok sync "$REF" --root "$R" --once --status-file "$S" --metrics-file "$M"
assert_contains "$(cat "$S")" '"previous_digest": null'
echo "changed: 1" >"$src/apps/web/changed.yaml"
ok push "$REF" "$src"
d2=${OUT##*@}
ok sync "$REF" --root "$R" --once --status-file "$S"
assert_eq "$OUT" "synced $d2 ($REF)"
assert_contains "$(cat "$S")" "\"previous_digest\": \"$d1\""
ok sync "$REF" --root "$R" --once --status-file "$S"
assert_eq "$OUT" "unchanged $d2"
assert_contains "$(cat "$S")" "\"previous_digest\": \"$d1\""
ok -o json sync "$REF" --root "$R" --once --status-file "$S"
assert_contains "$OUT" "\"previous_digest\":\"$d1\""
ok sync "$REF" --root "$R" --once --status-file "$S"
assert_contains "$(cat "$S")" "\"previous_digest\": \"$d1\""
assert_contains "$(cat "$S")" "\"current_digest\": \"$d2\""

step "a report file in a missing directory: usage error, exit 2, nothing published"
N="$WORK/new-root"
expect_fail 2 "--status-file $WORK/nodir/status.json: directory $WORK/nodir does not exist" \
	sync "$REF" --root "$N" --once --status-file "$WORK/nodir/status.json"
[ ! -e "$N" ] || fail "sync touched its root despite the usage error"
expect_fail 2 "--metrics-file $WORK/nodir/m.prom: directory $WORK/nodir does not exist" \
	sync "$REF" --root "$N" --once --metrics-file "$WORK/nodir/m.prom"
expect_fail 2 "--status-file $WORK/src/apps/web/changed.yaml/s.json: directory $WORK/src/apps/web/changed.yaml does not exist" \
	sync "$REF" --root "$N" --status-file "$WORK/src/apps/web/changed.yaml/s.json"
[ ! -e "$N" ] || fail "sync touched its root despite the usage error"
echo "sync_report: ok"
