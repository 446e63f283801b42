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
# but not the delayed-allocation data: files come back empty.
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
for v in a b; do
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

truncate -s 64M "$WORK/disk.img"
mkfs.ext4 -q -F "$WORK/disk.img" || fail "mkfs.ext4 failed"
mkdir -p "$WORK/mnt" "$WORK/snapmnt"
loop_mount "$WORK/disk.img" "$WORK/mnt" commit=600
sync -f "$WORK/mnt" # the empty file system itself is on the device
R="$WORK/mnt/root"

# crash_check [HEX...]: the device as it is now, after a power cut: the link
# names one of HEX (any revision when none given), complete.
n_crash=0
crash_check() {
	n_crash=$((n_crash + 1))
	local snap="$WORK/snap.img" got
	cp --sparse=always "$WORK/disk.img" "$snap"
	loop_mount "$snap" "$WORK/snapmnt"
	check_link_present "$WORK/snapmnt/root"
	got=$(link_hex "$WORK/snapmnt/root")
	if [ "$#" -gt 0 ]; then
		case " $* " in *" $got "*) ;; *) fail "crash $n_crash: the link names $got, expected one of: $*" ;; esac
	fi
	umount "$WORK/snapmnt"
	rm -f "$snap"
}

step "a power cut right after a sync returns keeps what it published"
ok sync "oci-layout:$WORK/lay:a" --root "$R" --once
crash_check "$HEX_A"
ok sync "oci-layout:$WORK/lay:b" --root "$R" --once
crash_check "$HEX_B"
ok sync "oci-layout:$WORK/lay:a" --root "$R" --once --keep 1
crash_check "$HEX_A"

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
