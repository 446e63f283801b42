# Fault loop: SIGKILL at random instants of sync (from a registry and from
# a layout), push (to both), tag (both), pull and copy (both directions).
# After each kill: the sync link names a complete revision, layouts are
# valid (index.json parses, every blob a descriptor names is there with its
# digest and size), registry tags name whole manifests whose blobs are all
# there, a pull destination is absent or holds one whole tree. After each
# kill the same command run to the end succeeds and is checked again;
# sync's must also leave no temporary of ours (push and pull: see
# assert_no_push_pull_temporaries in fault_lib.sh).
# FAULT_ROUNDS kills per operation (default 4: CI); scripts/faults.sh runs
# it longer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/fault_lib.sh"

ROUNDS=${FAULT_ROUNDS:-4}
start_registry
cd "$WORK"
# what ocisync writes to $TMPDIR stays where it can be counted
export TMPDIR="$WORK/tmp"
mkdir -p "$TMPDIR"

# two variants differing in every file, incompressible enough that packing,
# uploading and extracting each take a while
for v in a b; do
	/usr/bin/python3 - "$WORK/src-$v" "$v" <<'PY'
import base64, os, sys
out, v = sys.argv[1], sys.argv[2]
for i in range(200):
    d = os.path.join(out, "team-%02d" % (i % 20), "app-%04d" % i)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "deployment.yaml"), "w") as f:
        f.write("variant: %s\ndata: %s\n" % (v, base64.b64encode(os.urandom(3000)).decode()))
PY
	ok push "$REG/fault/src:$v" "$WORK/src-$v"
	ok push "oci-layout:$WORK/layout:$v" "$WORK/src-$v"
done
# a tree that differs from a in one file, so each push packs a new layer
fresh_tree() { # N
	rm -rf "$WORK/src-n"
	cp -r "$WORK/src-a" "$WORK/src-n"
	echo "round: $1" >"$WORK/src-n/round.yaml"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# measure CMD...: span = 1.5 complete runs (+20 ms), so kills land
# before, during and (some) after its work
measure() {
	local t0 t1
	t0=$(now_ms)
	ok "$@"
	t1=$(now_ms)
	span=$(((t1 - t0) * 3 / 2 + 20))
}
killed=0 finished=0
variant() { if [ $(($1 % 2)) -eq 0 ]; then echo a; else echo b; fi; }
# fault_round CHECK... -- ARGS...: `ocisync ARGS` killed at a random
# instant, CHECK; then `ocisync ARGS` run to the end (it must succeed),
# CHECK again
fault_round() {
	local check=()
	while [ "$1" != -- ]; do
		check+=("$1")
		shift
	done
	shift
	kill_at_random "$@"
	if [ "$RAN" = 1 ]; then finished=$((finished + 1)); else killed=$((killed + 1)); fi
	"${check[@]}"
	ok "$@"
	"${check[@]}"
}

# the sync checks: the link names a complete revision, the state file
# parses; after a completed run (sync cleans up after killed ones) nothing
# of ours is left
check_sync() { # ROOT
	check_link "$1"
	[ ! -e "$1/.state.json" ] || /usr/bin/python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$1/.state.json" ||
		fail "state file corrupt after a kill"
}
check_sync_clean() { # ROOT
	check_sync "$1"
	local extra
	extra=$(find "$1" "$1/.revisions" -maxdepth 1 -name '.*' ! -name .revisions ! -name .lock ! -name .state.json ! -name .)
	assert_eq "$extra" "" "leftovers under $1 after a clean run"
}

step "sync from a registry: $ROUNDS kills"
R="$WORK/root-reg"
measure sync "$REG/fault/src:a" --root "$R" --once --keep 1
for i in $(seq 1 "$ROUNDS"); do
	fault_round check_sync "$R" -- sync "$REG/fault/src:$(variant "$i")" --root "$R" --once --keep 1
	check_sync_clean "$R"
	same_tree "$R/current" "$WORK/src-$(variant "$i")"
done

step "sync from a layout: $ROUNDS kills"
R2="$WORK/root-layout"
measure sync "oci-layout:$WORK/layout:a" --root "$R2" --once --keep 1
for i in $(seq 1 "$ROUNDS"); do
	fault_round check_sync "$R2" -- sync "oci-layout:$WORK/layout:$(variant "$i")" --root "$R2" --once --keep 1
	check_sync_clean "$R2"
	same_tree "$R2/current" "$WORK/src-$(variant "$i")"
done

step "push to a layout: $ROUNDS kills"
L2="$WORK/layout-push"
fresh_tree 0
measure push "oci-layout:$L2:v0" "$WORK/src-n"
for i in $(seq 1 "$ROUNDS"); do
	fresh_tree "$i"
	fault_round check_layout "$L2" -- push "oci-layout:$L2:v$i" "$WORK/src-n"
done

step "push to a registry: $ROUNDS kills"
fresh_tree 0
measure push "$REG/fault/push:v0" "$WORK/src-n"
for i in $(seq 1 "$ROUNDS"); do
	fresh_tree "$i"
	fault_round check_registry_repo fault/push -- push "$REG/fault/push:v$i" "$WORK/src-n"
done

step "tag in a registry and in a layout: $ROUNDS kills each"
measure tag "$REG/fault/src:a" t0
for i in $(seq 1 "$ROUNDS"); do
	fault_round check_registry_repo fault/src -- tag "$REG/fault/src:$(variant "$i")" "t$i" "u$i"
done
measure tag "oci-layout:$WORK/layout:a" t0
for i in $(seq 1 "$ROUNDS"); do
	fault_round check_layout "$WORK/layout" -- tag "oci-layout:$WORK/layout:$(variant "$i")" "t$i" "u$i"
	ok resolve "oci-layout:$WORK/layout:u$i"
	assert_eq "$OUT" "$("$OCISYNC" resolve "oci-layout:$WORK/layout:$(variant "$i")")" "layout tag u$i"
done

step "pull from a registry: $ROUNDS kills"
D="$WORK/pulled"
# whole tree a or whole tree b, whatever the kill interrupted
check_pulled() {
	[ -e "$D" ] || return 0
	if diff -r -q "$D" "$WORK/src-a" >/dev/null 2>&1; then :; else same_tree "$D" "$WORK/src-b"; fi
}
measure pull "$REG/fault/src:a" "$D"
for i in $(seq 1 "$ROUNDS"); do
	fault_round check_pulled -- pull "$REG/fault/src:$(variant "$i")" "$D" --force
	same_tree "$D" "$WORK/src-$(variant "$i")"
done

step "copy registry -> layout and layout -> registry: $ROUNDS kills each"
L3="$WORK/layout-copy"
measure copy "$REG/fault/src:a" "oci-layout:$L3:c0"
for i in $(seq 1 "$ROUNDS"); do
	fault_round check_layout "$L3" -- copy "$REG/fault/src:$(variant "$i")" "oci-layout:$L3:c$i"
done
measure copy "oci-layout:$WORK/layout:a" "$REG/fault/copy:c0"
for i in $(seq 1 "$ROUNDS"); do
	fault_round check_registry_repo fault/copy -- copy "oci-layout:$WORK/layout:$(variant "$i")" "$REG/fault/copy:c$i"
done

step "temporaries left by killed push/pull/copy after the clean runs"
left=$(temporaries_of_ours "$WORK" | grep -vc '/root-' || true)
echo "fault_kill: $killed runs killed, $finished finished before the kill, each followed by a clean run; push/pull/copy temporaries left: $left" >&2
if [ "${FAULT_CHECK_TEMPORARIES:-1}" = 1 ]; then
	assert_no_push_pull_temporaries "$WORK"
fi
echo "fault_kill: ok"
