# sync --keep 2 recycles the revision a publish would prune: it is updated
# in place into the new revision (issue 13). Each published revision must
# be exactly what a fresh sync gives (files, bytes, modes, directories,
# index), the revision kept before it must still match its own index (no
# inode shared with it was written into), strays and tampered files in the
# recycled revision must not survive, and a failed or killed recycle must
# leave the published revision untouched and nothing the next run keeps.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/sync_lib.sh"
. "$(dirname "$0")/registry_helpers.sh"

start_registry
cd "$WORK"
R="$WORK/root"
REPO="$REG/team/recycle"

# variant N of the tree (each a function of the previous, see the steps)
base() {
	rm -rf "$WORK/src"
	mkdir -p "$WORK/src/apps/web" "$WORK/src/apps/db" "$WORK/src/infra/deep/er" "$WORK/src/was-dir"
	for i in $(seq 1 30); do
		printf 'kind: ConfigMap\nmetadata:\n  name: cm-%s\n' "$i" >"$WORK/src/apps/web/cm-$i.yaml"
	done
	printf 'kind: Service\n' >"$WORK/src/apps/db/svc.yaml"
	printf 'T1 same size\n' >"$WORK/src/apps/t.yaml"
	printf 'deep\n' >"$WORK/src/infra/deep/er/x.yaml"
	printf 'inside\n' >"$WORK/src/was-dir/f.yaml"
	printf 'a file\n' >"$WORK/src/was-file"
	printf '#!/bin/sh\n' >"$WORK/src/infra/run.sh"
	chmod 755 "$WORK/src/infra/run.sh"
	printf 'plain\n' >"$WORK/src/infra/mode.sh"
}

# the whole tree as a listing: type, mode, size, content hash per path
listing() {
	(cd "$1" && find . -mindepth 1 -printf '%P %y %m %s\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# push the tree as TAG; PUSHED is its digest
push_as() {
	ok push "$REPO:$1" "$WORK/src" --created 2024-01-01T00:00:00Z
	PUSHED=${OUT##*@}
}

# sync TAG into ROOT and check it against a fresh sync and a fresh pull
sync_checked() { # tag what
	ok sync "$REPO:$1" --root "$R" --once --keep 2
	SYNC_ERR=$ERR
	check_link_present "$R"
	local hex
	hex=$(link_hex "$R")
	rm -rf "$WORK/fresh" "$WORK/pulled"
	ok sync "$REPO:$1" --root "$WORK/fresh" --once
	ok pull "$REPO:$1" "$WORK/pulled"
	assert_eq "$(listing "$R/current/")" "$(listing "$WORK/fresh/current/")" "$2: tree against a fresh sync"
	assert_eq "$(cat "$R/.revisions/$hex.index")" "$(cat "$WORK/fresh/.revisions/$hex.index")" "$2: index"
	same_tree "$R/current" "$WORK/pulled"
	# every kept revision still matches its own index
	local d
	for d in "$R"/.revisions/*; do
		case "$d" in *.index) ;; *) check_revision "$d" ;; esac
	done
	assert_eq "$(ls -A "$R/.revisions" | grep -c -v -E '^[0-9a-f]{64}(\.index)?$' || true)" 0 \
		"$2: leftovers in .revisions"
}

step "r1, r2: fewer than --keep revisions, nothing to recycle"
base
push_as r1
h1=${PUSHED#sha256:}
sync_checked r1 r1
printf 'kind: Service\nspec: {}\n' >"$WORK/src/apps/db/svc.yaml" # changed
printf 'new\n' >"$WORK/src/apps/web/new.yaml"                  # added
mkdir -p "$WORK/src/added/dir" && printf 'a\n' >"$WORK/src/added/dir/a.yaml"
push_as r2
h2=${PUSHED#sha256:}
sync_checked r2 r2
assert_not_contains "$SYNC_ERR" "recycled" "r2's sync"

step "r3: r1 is recycled (files and directories removed, added, a mode changed, a directory became a file)"
# strays the recycle must remove: a file, a directory, a symlink, in r1
printf 'stray\n' >"$R/.revisions/$h1/stray.yaml"
mkdir -p "$R/.revisions/$h1/apps/stray-dir/sub" && printf 's\n' >"$R/.revisions/$h1/apps/stray-dir/sub/s"
ln -s /etc "$R/.revisions/$h1/apps/web/stray-link"
rm "$WORK/src/apps/web/cm-3.yaml"
rm -r "$WORK/src/infra/deep"
printf 'T3 same size\n' >"$WORK/src/apps/t.yaml"
chmod 755 "$WORK/src/infra/mode.sh"
rm -r "$WORK/src/was-dir" && printf 'now a file\n' >"$WORK/src/was-dir"
rm "$WORK/src/was-file" && mkdir "$WORK/src/was-file" && printf 'f\n' >"$WORK/src/was-file/f.yaml"
mkdir -p "$WORK/src/n1/n2/n3" && printf 'n\n' >"$WORK/src/n1/n2/n3/n.yaml"
push_as r3
h3=${PUSHED#sha256:}
sync_checked r3 r3
assert_contains "$SYNC_ERR" "recycled revision $h1 into $h3" "r3's sync"
[ ! -e "$R/.revisions/$h1" ] || fail "the recycled revision is still there"
[ ! -e "$R/current/stray.yaml" ] && [ ! -e "$R/current/apps/stray-dir" ] && [ ! -L "$R/current/apps/web/stray-link" ] ||
	fail "a stray of the recycled revision survived"
[ -d "$R/.revisions/$h2" ] || fail "r2 (kept) is gone"

step "r4 equals r1 again: r2 is recycled, its tampered file is rewritten"
# t.yaml of r2 shares its inode with no other revision (r3 changed it):
# changed in place, same size, it must not be kept
[ "$(stat -c %h "$R/.revisions/$h2/apps/t.yaml")" = 1 ] || fail "t.yaml of r2 is shared"
printf 'XX same size\n' >"$R/.revisions/$h2/apps/t.yaml"
base
push_as r4
h4=${PUSHED#sha256:}
assert_eq "$h4" "$h1" "r4 is r1's digest"
sync_checked r4 r4
assert_contains "$SYNC_ERR" "recycled revision $h2 into $h4" "r4's sync"
assert_eq "$(cat "$R/current/apps/t.yaml")" "T1 same size" "the tampered file"

step "r3 again: still kept, published as it is (no recycle)"
sync_checked r3 r3-again
assert_not_contains "$SYNC_ERR" "recycled" "a sync to a kept revision"
assert_eq "$(link_hex "$R")" "$h3" "link"

step "a recycle whose layer is tampered with in transit publishes nothing"
printf 'r5\n' >"$WORK/src/r5.yaml"
push_as r5
h5=${PUSHED#sha256:}
before=$(listing "$R/.revisions/$h3/")
start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"flip","count":100}]'
expect_fail 1 "does not match its digest" sync "$PROXY/team/recycle:r5" --root "$R" --once --keep 2
assert_eq "$(link_hex "$R")" "$h3" "link after the failed recycle"
assert_eq "$(listing "$R/.revisions/$h3/")" "$before" "the published revision after the failed recycle"
check_revision "$R/.revisions/$h3"
assert_eq "$(ls -A "$R/.revisions" | grep -c -v -E '^[0-9a-f]{64}(\.index)?$' || true)" 0 \
	"leftovers after the failed recycle"
[ ! -e "$R/.revisions/$h5" ] || fail "the failed revision was published"
sync_checked r5 r5-after-failure

step "a recycle killed mid-way leaves nothing the next run keeps"
for round in 1 2 3; do
	printf 'kill round %s\n' "$round" >"$WORK/src/kill.yaml"
	head -c 300000 /dev/urandom | base64 -w 76 >"$WORK/src/bulk.txt" # a slow layer through the proxy
	push_as "k$round"
	cur=$(link_hex "$R")
	before=$(listing "$R/current/")
	start_proxy '[{"method":"GET","path":"/blobs/sha256:","mode":"drip","rate":100000,"count":100}]'
	"$OCISYNC" sync "$PROXY/team/recycle:k$round" --root "$R" --once --keep 2 >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 400); do # up to 20 s on a loaded machine
		ls -d "$R"/.revisions/.recycle-* >/dev/null 2>&1 && break
		sleep 0.05
	done
	ls -d "$R"/.revisions/.recycle-* >/dev/null 2>&1 || fail "round $round: no recycle under way"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null || true
	check_link_present "$R"
	assert_eq "$(link_hex "$R")" "$cur" "round $round: link after the kill"
	assert_eq "$(listing "$R/current/")" "$before" "round $round: the published revision after the kill"
	sync_checked "k$round" "k$round after the kill"
	sync_checked "k$round" "k$round again"
done

step "no candidate, no recycle: the oldest revision without its index, then --keep 1"
printf 'n1\n' >"$WORK/src/n.yaml"
push_as n1
sync_checked n1 n1
assert_contains "$SYNC_ERR" "recycled revision" "n1's sync"
old=$(ls "$R/.revisions" | grep -E '^[0-9a-f]{64}$' | grep -v "$(link_hex "$R")")
rm "$R/.revisions/$old.index"
printf 'n2\n' >"$WORK/src/n.yaml"
push_as n2
sync_checked n2 "n2 (the oldest revision without its index)"
assert_not_contains "$SYNC_ERR" "recycled" "a sync whose oldest revision has no index"
assert_contains "$SYNC_ERR" "pruned revision $old" "n2's sync"
printf 'n3\n' >"$WORK/src/n.yaml"
push_as n3
ok sync "$REPO:n3" --root "$R" --once --keep 1 # the one extra revision: recycled
assert_contains "$ERR" "recycled revision" "the first sync with --keep 1"
printf 'n4\n' >"$WORK/src/n.yaml"
push_as n4
ok sync "$REPO:n4" --root "$R" --once --keep 1
assert_not_contains "$ERR" "recycled" "--keep 1 with only the current revision"
check_link_present "$R"
assert_eq "$(ls -A "$R/.revisions")" "$(link_hex "$R")
$(link_hex "$R").index" "--keep 1 leaves the current revision alone"

step "durability: a one-file change fsyncs what it changed; a revision this root never published is synced whole"
rm -f "$WORK/src/n.yaml"
printf 'd1\n' >"$WORK/src/apps/db/d.yaml"
push_as d1
sync_checked d1 d1
printf 'd2\n' >"$WORK/src/apps/web/e.yaml"
push_as d2
sync_checked d2 d2
assert_contains "$SYNC_ERR" "recycled revision" "d2's sync"
# d1 is recycled into d3, which differs from it in apps/db/d.yaml only:
# that file, apps/db, the revision's root and its index are fsynced
rm "$WORK/src/apps/web/e.yaml"
printf 'd3\n' >"$WORK/src/apps/db/d.yaml"
push_as d3
sync_checked d3 d3
assert_contains "$SYNC_ERR" "1 written; 4 made durable)" "d3's sync"
# a complete revision with its index that this root did not publish (as
# a run killed before its link swap leaves one): recycled, then the whole
# filesystem is synced (its kept files were never made durable here)
printf 'd4\n' >"$WORK/src/apps/db/d.yaml"
push_as d4
hd4=${PUSHED#sha256:}
ok sync "$REPO:d4" --root "$WORK/other" --once
cp -a "$WORK/other/.revisions/$hd4" "$WORK/other/.revisions/$hd4.index" "$R/.revisions/"
printf 'd5\n' >"$WORK/src/apps/db/d.yaml"
push_as d5
sync_checked d5 d5
assert_contains "$SYNC_ERR" "recycled revision $hd4 into" "d5's sync"
assert_contains "$SYNC_ERR" "1 written; the filesystem synced)" "d5's sync"
