# Readers never find ROOT/current missing: while syncs alternate between two
# artifacts (every run publishes), reader processes open files through the
# link as fast as they can -- the link exists, resolves, and names a
# complete tree at every instant. A swap that removes the old link before
# renaming the new one into place shows here as misses (readers like
# `kubectl apply -f current/` fail or apply nothing in that window).
#
# Bounded in rounds, not in time: ROUNDS syncs (default 60), each checked
# by every reader many times; the test also requires that the readers
# checked during the syncs, so that 0 misses means something.
#
# The crash side (what a power cut leaves) is sync_crash.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

ROUNDS=${SYNC_READER_ROUNDS:-60}
READERS=2
cd "$WORK"
for v in a b; do
	/usr/bin/python3 - "$WORK/src-$v" "$v" <<'PY'
import os, sys
out, v = sys.argv[1], sys.argv[2]
for i in range(120):
    d = os.path.join(out, "team-%02d" % (i % 12))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "app-%03d.yaml" % i), "w") as f:
        f.write("variant: %s\n" % v + ("# app %d\n" % i) * 20)
# sorts last in the tar: present only if the whole tree is
with open(os.path.join(out, "zz-last.yaml"), "w") as f:
    f.write("variant: %s\n" % v)
PY
	ok push "oci-layout:$WORK/lay:$v" "$WORK/src-$v"
done
R="$WORK/root"
ok sync "oci-layout:$WORK/lay:a" --root "$R" --once
check_link_present "$R"

# The reader: until STOP exists, open ROOT/current/zz-last.yaml (one path
# resolution through the link, so the revision cannot change in between)
# and count its top level; report checks and misses by kind.
cat >"$WORK/reader.py" <<'PY'
import os, sys
root, stop, out = sys.argv[1], sys.argv[2], sys.argv[3]
link = os.path.join(root, "current")
checks = 0
miss = {"missing": 0, "dangling": 0, "incomplete": 0}
example = ""
open(out + ".started", "w").close()
while not os.path.exists(stop):
    for _ in range(200):
        checks += 1
        try:
            with open(os.path.join(link, "zz-last.yaml")) as f:
                body = f.read()
            if body not in ("variant: a\n", "variant: b\n"):
                miss["incomplete"] += 1
                example = "zz-last.yaml holds %r" % body
                continue
            n = len(os.listdir(link))
            if n != 13:
                miss["incomplete"] += 1
                example = "%d entries at the top, expected 13" % n
        except FileNotFoundError as e:
            if os.path.lexists(link) and not os.path.exists(link):
                miss["dangling"] += 1
            elif not os.path.lexists(link):
                miss["missing"] += 1
            else:
                miss["incomplete"] += 1
            example = str(e)
with open(out, "w") as f:
    f.write("%d %d %d %d %s\n" % (checks, miss["missing"], miss["dangling"], miss["incomplete"], example))
PY
pids=()
for r in $(seq 1 "$READERS"); do
	/usr/bin/python3 "$WORK/reader.py" "$R" "$WORK/stop" "$WORK/reader-$r.out" &
	pids+=($!)
	_pids+=($!)
done
# the readers are checking before the first swap
for r in $(seq 1 "$READERS"); do
	for t in $(seq 1 500); do
		[ -e "$WORK/reader-$r.out.started" ] && break
		sleep 0.01
	done
	[ -e "$WORK/reader-$r.out.started" ] || fail "reader $r did not start"
done

step "$ROUNDS syncs alternating between two artifacts, $READERS readers"
prev=$(link_hex "$R")
for i in $(seq 1 "$ROUNDS"); do
	if [ $((i % 2)) -eq 1 ]; then tag=b; else tag=a; fi
	ok sync "oci-layout:$WORK/lay:$tag" --root "$R" --once
	assert_contains "$OUT" "synced " "round $i publishes"
	cur=$(link_hex "$R")
	[ "$cur" != "$prev" ] || fail "round $i: the link did not move"
	prev=$cur
done
touch "$WORK/stop"
for p in "${pids[@]}"; do wait "$p" || fail "a reader failed"; done

total=0
for r in $(seq 1 "$READERS"); do
	read -r checks missing dangling incomplete example <"$WORK/reader-$r.out"
	echo "reader $r: $checks checks, missing $missing, dangling $dangling, incomplete $incomplete ${example}" >&2
	assert_eq "$missing $dangling $incomplete" "0 0 0" "reader $r misses (missing, dangling, incomplete): $example"
	total=$((total + checks))
done
# a probe that did not run during the syncs proves nothing
[ "$total" -ge $((ROUNDS * 10)) ] || fail "the readers made only $total checks over $ROUNDS syncs"
check_link_present "$R"
echo "sync_reader: ok"
