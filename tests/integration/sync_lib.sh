# Helpers for the sync_* tests (sourced after lib.sh).

# check_revision DIR: every file the revision's index lists is there with
# that sha256, read-only, and nothing else is there. Fails the test.
check_revision() {
	local dir=$1 index="${1}.index" listed present
	[ -d "$dir" ] || fail "revision $dir is missing"
	[ -f "$index" ] || fail "index $index is missing"
	(cd "$dir" && awk '{ h=$1; $1=""; $2=""; sub(/^  /, ""); print h "  " $0 }' "$index" |
		sha256sum --quiet --strict -c -) >/dev/null 2>&1 || fail "revision $dir does not match its index"
	listed=$(awk '{ $1=""; $2=""; sub(/^  /, ""); print }' "$index" | sort)
	present=$(cd "$dir" && find . -type f | sed 's|^\./||' | sort)
	[ "$listed" = "$present" ] || fail "revision $dir holds other files than its index lists"
	[ -z "$(find "$dir" -type f -perm /222)" ] || fail "revision $dir has writable files"
}

# check_link ROOT [LINK]: the link is absent or names a complete revision.
check_link() {
	local root=$1 link=${2:-current} t
	[ -L "$root/$link" ] || { [ ! -e "$root/$link" ] || fail "$root/$link is not a symlink"; return 0; }
	t=$(readlink "$root/$link")
	case "$t" in .revisions/*) ;; *) fail "$root/$link points to $t" ;; esac
	check_revision "$root/$t"
}

# check_link_present ROOT [LINK]: the link exists and names a complete
# revision (once a sync has published, readers must never find it missing).
check_link_present() {
	[ -L "$1/${2:-current}" ] || fail "$1/${2:-current} is missing"
	check_link "$@"
}

# link_hex ROOT [LINK]: the hex the link names.
link_hex() { basename "$(readlink "$1/${2:-current}")"; }

# The registry's access log, bracketed by marker requests so that counting
# does not depend on when the registry flushes its log.
reg_mark() { # NAME: a request for a marker path, waited for in the log
	curl -s -o /dev/null "http://$REG/v2/ocisync-marker-$1/tags/list" || true
	local i
	for i in $(seq 1 100); do
		grep -q "ocisync-marker-$1/" "$REG_LOG" && return 0
		sleep 0.05
	done
	fail "marker $1 never reached the registry log"
}

# requests_between A B: the access-log request lines between two markers.
requests_between() {
	awk -v a="ocisync-marker-$1/" -v b="ocisync-marker-$2/" '
		index($0, a) && /HTTP\/1/ { on = 1; next }
		index($0, b) && /HTTP\/1/ { on = 0 }
		on && /"(GET|HEAD|PUT|POST|PATCH|DELETE) \/v2\// { print }' "$REG_LOG" |
		sed -E 's/.*"((GET|HEAD|PUT|POST|PATCH|DELETE) [^ ]*) HTTP.*/\1/'
}

# tree_listing ROOT: every entry below ROOT with inode, mtime, ctime, links,
# mode, except the state file (the one file a no-change sync rewrites).
tree_listing() {
	find "$1" -mindepth 1 -not -name .state.json -printf '%p %i %T@ %C@ %n %m\n' | sort
}
