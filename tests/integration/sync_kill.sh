# SIGKILL at random instants of a sync (download, extraction, rename, link
# swap, prune): the link always exists (a sync published before the kills
# start) and names a complete revision (every file checked against the
# revision's index), and the next run recovers: no leftovers, and exactly
# --keep revisions, since even an unchanged run prunes (a kill between the
# swap and the prune leaves one revision too many until then).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

RUNS=${SYNC_KILL_RUNS:-50}
start_registry
cd "$WORK"
# two variants that differ in every file, so each sync extracts everything
for v in a b; do
	/usr/bin/python3 - "$WORK/src-$v" "$v" <<'PY'
import os, sys
out, v = sys.argv[1], sys.argv[2]
for i in range(250):
    d = os.path.join(out, "team-%02d" % (i % 30), "app-%04d" % i)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "deployment.yaml"), "w") as f:
        f.write("variant: %s\n" % v + ("# padding line for app %d\n" % i) * 40)
PY
	ok push "$REG/team/kill:$v" "$WORK/src-$v"
done
R="$WORK/root"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# one full sync, to spread the kills over its length
t0=$(now_ms)
ok sync "$REG/team/kill:a" --root "$R" --once --keep 1
t1=$(now_ms)
span=$(((t1 - t0) * 2 + 20))
check_link_present "$R"
step "$RUNS kills at random instants (first span ${span} ms, adapted as runs go)"

moved=0 stayed=0 leftovers=0
prev=$(link_hex "$R")
for i in $(seq 1 "$RUNS"); do
	if [ $((i % 2)) -eq 0 ]; then tag=a; else tag=b; fi
	"$OCISYNC" sync "$REG/team/kill:$tag" --root "$R" --once --keep 1 >/dev/null 2>&1 &
	pid=$!
	delay=$((RANDOM % span))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	check_link_present "$R"
	cur=$(link_hex "$R")
	# aim the kills so that some land before and some after the swap: on a
	# loaded machine a sync after a kill (with leftovers to clean) takes
	# longer than the first one did
	if [ "$cur" = "$prev" ]; then
		stayed=$((stayed + 1))
		span=$((span + span / 4))
		[ "$span" -le 4000 ] || span=4000
	else
		moved=$((moved + 1))
		span=$((span - span / 8))
	fi
	prev=$cur
	if [ -n "$(find "$R" "$R/.revisions" -maxdepth 1 -name '.*' ! -name .revisions ! -name .lock ! -name .state.json ! -name . | head -1)" ]; then
		leftovers=$((leftovers + 1))
	fi
	# now and then a run that completes must recover whatever was left
	if [ $((i % 10)) -eq 0 ]; then
		ok sync "$REG/team/kill:$tag" --root "$R" --once --keep 1
		check_link_present "$R"
		assert_eq "$(link_hex "$R")" "$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
			"http://$REG/v2/team/kill/manifests/$tag" | tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: sha256://p')" \
			"link after a completed run"
		prev=$(link_hex "$R")
	fi
done
echo "kills: $RUNS, link moved: $moved, link stayed: $stayed, runs that left leftovers: $leftovers" >&2

step "the next run recovers: leftovers gone, the link on the tag's revision"
ok sync "$REG/team/kill:a" --root "$R" --once --keep 1
check_link_present "$R"
extra=$(find "$R" "$R/.revisions" -maxdepth 1 -name '.*' ! -name .revisions ! -name .lock ! -name .state.json ! -name . )
assert_eq "$extra" "" "leftovers after a completed run"
assert_eq "$(ls "$R/.revisions" | wc -l)" 2 "one revision and its index (--keep 1)"
/usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$R/.state.json" || fail "state file corrupt"
echo "sync_kill: ok"
