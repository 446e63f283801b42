# Crash consistency of a sync: what a power cut leaves on the disk. ROOT
# lives on a fresh ext4 on a loop device, mounted in a private mount
# namespace (invisible to the rest of the machine, gone with the test) with
# commit=600, so nothing reaches the device unless ocisync forces it
# (fsync/syncfs) -- or the kernel writes back on its own, which it does only
# after 30 s (vm.dirty_expire_centisecs, left alone: it is machine-wide).
#
# A "crash" is a copy of the loop device's backing file taken at that
# instant: exactly the blocks the device holds, nothing of the page cache.
# No write is in flight during a copy: the sync is stopped, or done; each
# sync flushes what it wrote (syncfs, then fsyncs), so nothing stays dirty
# the 30 s it would take the kernel to write it back on its own (which
# could tear a copy).
# The copy is then mounted (ext4 replays its journal, as after a reboot)
# and must show ROOT/current naming a complete revision:
#   - after each sync returns: the NEW revision (the sync said "synced",
#     so it must survive a power cut), every file matching its index;
#   - at random instants during syncs (the sync stopped with SIGSTOP, and
#     the copy taken only once it is stopped, so no write of it is in
#     flight): the old or the new revision, complete.
# Without the syncfs of the revision before the swap, the journal commits
# the link and the directory entries (an fsync of ROOT forces the commit)
# but not the delayed-allocation data: files come back empty. That holds
# for a tree the sync extracts (flushed in pull before its rename) and for
# a revision it finds whole under .revisions/ and publishes as it is
# (flushed in sync before the swap): the case "found whole" uses a copy of
# a revision that never reached the disk.
#
# Needs root (losetup, mount) and loop devices; skipped (exit 77) where they
# are missing, e.g. in an unprivileged container. dm-flakey would model a
# device that drops writes, but device-mapper is not available here (no
# /dev/mapper/control); the copy of the backing file models the cut itself.
if [ -z "${OCISYNC_CRASH_NS:-}" ]; then
	skip() { echo "SKIP: $*" >&2; exit 77; }
	[ "$(id -u)" -eq 0 ] || skip "needs root (loop devices and mounts)"
	for t in mkfs.ext4 unshare mount umount mountpoint; do
		command -v "$t" >/dev/null || skip "$t is not installed"
	done
	unshare -m true 2>/dev/null || skip "cannot create a mount namespace"
	# everything below runs in a private mount namespace
	exec env OCISYNC_CRASH_NS=1 unshare -m --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"

STOPS=${SYNC_CRASH_STOPS:-12}
# Loop devices come from mount -o loop, which sets them to detach
# themselves when unmounted; the namespace unmounts whatever is left when
# the test ends, however it ends.
crash_cleanup() {
	local d
	for d in "$WORK/snapmnt" "$WORK/mnt"; do
		mountpoint -q "$d" 2>/dev/null && umount "$d" 2>/dev/null
	done
	return 0
}
trap 'rc=$?; crash_cleanup; (exit $rc); _cleanup' EXIT
# loop_mount FILE DIR [OPTIONS]: exit 77 when there is no loop device
loop_mount() {
	mount -o "loop${3:+,$3}" "$1" "$2" 2>"$WORK/mount.err" && return 0
	if grep -qi 'loop' "$WORK/mount.err"; then
		echo "SKIP: no loop device: $(cat "$WORK/mount.err")" >&2
		exit 77
	fi
	fail "mounting $1: $(cat "$WORK/mount.err")"
}

cd "$WORK"
for v in a b c; do
	/usr/bin/python3 - "$WORK/src-$v" "$v" <<'PY'
import os, sys
out, v = sys.argv[1], sys.argv[2]
for i in range(60):
    d = os.path.join(out, "team-%d" % (i % 6))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "app-%02d.yaml" % i), "w") as f:
        f.write("variant: %s\n" % v + ("# app %d, some padding to make a block\n" % i) * 60)
PY
	ok push "oci-layout:$WORK/lay:$v" "$WORK/src-$v"
done
ok resolve "oci-layout:$WORK/lay:a"
HEX_A=${OUT#sha256:}
ok resolve "oci-layout:$WORK/lay:b"
HEX_B=${OUT#sha256:}
ok resolve "oci-layout:$WORK/lay:c"
HEX_C=${OUT#sha256:}

truncate -s 64M "$WORK/disk.img"
mkfs.ext4 -q -F "$WORK/disk.img" || fail "mkfs.ext4 failed"
mkdir -p "$WORK/mnt" "$WORK/snapmnt"
loop_mount "$WORK/disk.img" "$WORK/mnt" commit=600
sync -f "$WORK/mnt" # the empty file system itself is on the device
R="$WORK/mnt/root"

# crash_mount / crash_umount: the device as it is now, after a power cut,
# mounted on $WORK/snapmnt (ROOT is $WORK/snapmnt/root there).
n_crash=0
crash_mount() {
	n_crash=$((n_crash + 1))
	cp --sparse=always "$WORK/disk.img" "$WORK/snap.img"
	loop_mount "$WORK/snap.img" "$WORK/snapmnt"
}
crash_umount() {
	umount "$WORK/snapmnt"
	rm -f "$WORK/snap.img"
}
# crash_check [HEX...]: after a power cut now, the link names one of HEX
# (any revision when none given), complete.
crash_check() {
	local got
	crash_mount
	check_link_present "$WORK/snapmnt/root"
	got=$(link_hex "$WORK/snapmnt/root")
	if [ "$#" -gt 0 ]; then
		case " $* " in *" $got "*) ;; *) fail "crash $n_crash: the link names $got, expected one of: $*" ;; esac
	fi
	crash_umount
}

step "a power cut right after a sync returns keeps what it published"
ok sync "oci-layout:$WORK/lay:a" --root "$R" --once
crash_check "$HEX_A"
ok sync "oci-layout:$WORK/lay:b" --root "$R" --once
crash_check "$HEX_B"
ok sync "oci-layout:$WORK/lay:a" --root "$R" --once --keep 1
crash_check "$HEX_A"

step "a power cut right after a sync publishes a revision it found whole keeps it"
# A revision found whole under .revisions/ is published as it is, not
# extracted again, so the sync itself must flush it before the swap: it
# may have been left by a run killed before its flush, or put there by
# hand. Here it is a copy (cp -a of a revision another root holds, with its
# index) that nobody flushed: its data is in the page cache only (delayed
# allocation). The other root is on the same file system, its sync flushes
# it all: only the copy is not on the device.
D="$WORK/mnt/donor"
ok sync "oci-layout:$WORK/lay:c" --root "$D" --once
check_link_present "$D"
assert_eq "$(link_hex "$D")" "$HEX_C" "the donor root's revision"
# The copy must not be on the device yet, or the sync's flush is not what
# makes it durable. A machine-wide sync(2) or writeback of another process
# could write it in between (rarely): then the copy is made again.
for try in 1 2 3; do
	rm -rf "$R/.revisions/$HEX_C" "$R/.revisions/$HEX_C.index"
	cp -a "$D/.revisions/$HEX_C" "$D/.revisions/$HEX_C.index" "$R/.revisions/"
	check_revision "$R/.revisions/$HEX_C"
	crash_mount
	if (check_revision "$WORK/snapmnt/root/.revisions/$HEX_C") >/dev/null 2>&1; then
		on_disk=1
	else
		on_disk=0
	fi
	crash_umount
	[ "$on_disk" -eq 0 ] && break
	echo "the copy of $HEX_C reached the device before the sync (try $try); copying it again" >&2
done
[ "$on_disk" -eq 0 ] || fail "the copied revision reached the device on its own $try times: the case proves nothing"
assert_eq "$(link_hex "$R")" "$HEX_A" "the link before the sync"
ok -o json sync "oci-layout:$WORK/lay:c" --root "$R" --once --keep 1
assert_contains "$OUT" '"result":"synced"'
assert_contains "$OUT" "\"digest\":\"sha256:$HEX_C\""
assert_contains "$OUT" '"reused_revision":true' "the copied revision is published as found, not extracted"
assert_contains "$OUT" '"files_written":0'
crash_check "$HEX_C"

step "$STOPS power cuts at random instants of a sync"
# aimed like sync_kill: the span of one sync, so some land before the swap
# and some after
t0=$(date +%s%N)
ok sync "oci-layout:$WORK/lay:b" --root "$R" --once --keep 1
span=$((($(date +%s%N) - t0) / 1000000 + 5))
crash_check "$HEX_B"
before=0 after=0
for i in $(seq 1 "$STOPS"); do
	if [ $((i % 2)) -eq 1 ]; then tag=a new=$HEX_A old=$HEX_B; else tag=b new=$HEX_B old=$HEX_A; fi
	"$OCISYNC" sync "oci-layout:$WORK/lay:$tag" --root "$R" --once --keep 1 >/dev/null 2>&1 &
	pid=$!
	delay=$((RANDOM % span))
	sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
	if kill -STOP "$pid" 2>/dev/null; then
		# only once it is stopped: no write of it in flight
		for t in $(seq 1 500); do
			st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null || echo gone)
			[ "$st" = T ] || [ "$st" = gone ] || [ "$st" = Z ] && break
			sleep 0.01
		done
		crash_check "$old" "$new"
		[ "$(link_hex "$R")" = "$new" ] && after=$((after + 1)) || before=$((before + 1))
		kill -CONT "$pid" 2>/dev/null || true
	else
		crash_check "$new"
	fi
	wait "$pid" || fail "sync $i (stopped and continued) failed"
	crash_check "$new"
done
echo "power cuts during syncs: $STOPS (link already swapped in the running system: $after, not yet: $before); checked images: $n_crash" >&2
echo "sync_crash: ok"
