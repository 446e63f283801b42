/* The tree walk behind pack and list: what goes into an artifact, in which
 * order. Works on directory file descriptors (openat/fstatat) so a path is
 * resolved once per directory, not once per file. */
#include "bundle_internal.h"
#include "error_internal.h"
#include "contract.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *oci__symlink_unsafe(const char *link_rel, const char *target)
{
	if (!*target)
		return "has an empty target";
	if (*target == '/')
		return "points to an absolute path";
	long depth = 0;
	for (const char *s = link_rel; *s; s++)
		if (*s == '/')
			depth++;
	int seen_name = 0;
	const char *p = target;
	while (*p) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (seen_name)
				return "has '..' after a name (that name could be a symlink)";
			if (--depth < 0)
				return "points outside";
		} else if (n && !(n == 1 && p[0] == '.')) {
			seen_name = 1;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return NULL;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static int utf8_valid(const char *str)
{
	const unsigned char *p = (const unsigned char *)str;
	while (*p) {
		unsigned c = *p;
		int n;
		unsigned min;
		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			n = 1, min = 0x80, c &= 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			n = 2, min = 0x800, c &= 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return 0;
		}
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xC0) != 0x80)
				return 0;
			c = (c << 6) | (p[i] & 0x3F);
		}
		if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
			return 0;
		p += n + 1;
	}
	return 1;
}

/* A name that is not UTF-8 cannot be written as the UTF-8 pax path every
 * reader (pull, Flux, Argo CD) takes the same way: refuse it, naming the
 * file with its bytes escaped. */
static int refuse_name(const char *display)
{
	char esc[1024];
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)display; *p && o + 5 < sizeof esc; p++) {
		if (*p >= 0x20 && *p < 0x7F && *p != '\\')
			esc[o++] = (char)*p;
		else
			o += (size_t)snprintf(esc + o, sizeof esc - o, "\\x%02x", *p);
	}
	esc[o] = '\0';
	oci_error_set(OCI_EINVALID, "file name is not valid UTF-8: %s (bytes shown as \\xNN)", esc);
	return oci_error_hint_set(OCI_HINT_RENAME_OR_IGNORE, NULL);
}

typedef struct walker {
	const char *root;        /* PATH as given */
	oci_ignore *ig;
	oci__walk_fn fn;
	void *ctx;
	char display[PATH_MAX * 2];
} walker;

typedef struct child {
	char *name;
	size_t len;
	struct stat st;
} child;

/* Orders children as their full paths sort once directories get a
 * trailing '/': compare names byte-wise, a directory's name ending in '/'. */
static int child_cmp(const void *pa, const void *pb)
{
	const child *a = pa, *b = pb;
	for (size_t i = 0;; i++) {
		int ca = i < a->len ? (unsigned char)a->name[i] : i == a->len && S_ISDIR(a->st.st_mode) ? '/' : -1;
		int cb = i < b->len ? (unsigned char)b->name[i] : i == b->len && S_ISDIR(b->st.st_mode) ? '/' : -1;
		if (ca != cb || ca < 0)
			return ca - cb;
	}
}

static const char *display(walker *w, const char *rel)
{
	snprintf(w->display, sizeof w->display, "%s/%s", w->root, rel);
	return w->display;
}

static int walk_dir(walker *w, int dirfd, const char *rel);

static int visit(walker *w, int dirfd, const char *rel, child *c)
{
	oci__walk_item it = { .rel = rel, .dirfd = dirfd, .name = c->name };
	int rc = 0;
	char target[PATH_MAX];
	mode_t m = c->st.st_mode;
	it.display = display(w, rel);
	if (!utf8_valid(c->name))
		return refuse_name(it.display);
	if (S_ISDIR(m)) {
		it.type = 'd';
		if ((rc = w->fn(w->ctx, &it)) < 0)
			return rc;
		int fd = openat(dirfd, c->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return oci_error_errno("opening directory %s", it.display);
		rc = walk_dir(w, fd, rel);
		close(fd);
		return rc;
	}
	if (S_ISREG(m)) {
		it.type = 'f';
		it.size = c->st.st_size;
		return w->fn(w->ctx, &it);
	}
	if (S_ISLNK(m)) {
		ssize_t n = readlinkat(dirfd, c->name, target, sizeof target - 1);
		if (n < 0)
			return oci_error_errno("reading symlink %s", it.display);
		target[n] = '\0';
		const char *why = oci__symlink_unsafe(rel, target);
		if (why)
			return oci_error_set(OCI_EUNSAFE, "symlink %s -> %s %s of %s; only symlinks that stay inside can be packed",
					     it.display, target, why, w->root);
		it.type = 'l';
		it.link = target;
		return w->fn(w->ctx, &it);
	}
	const char *kind = S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" :
			   S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device" : "a special file";
	oci_error_set(OCI_EUNSUPPORTED, "%s is %s; only files, directories and symlinks can be packed", it.display, kind);
	return oci_error_hint_set(OCI_HINT_IGNORE, NULL);
}

static int walk_dir(walker *w, int dirfd, const char *rel)
{
	int rc = 0;
	child *kids = NULL;
	size_t n = 0, cap = 0;
	char *path = NULL;
	size_t rel_len = strlen(rel);
	int fd2 = dup(dirfd);
	DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
	if (!d) {
		if (fd2 >= 0)
			close(fd2);
		rc = oci_error_errno("reading directory %s", rel_len ? display(w, rel) : w->root);
		goto cleanup;
	}
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		const char *nm = de->d_name;
		if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0 || strcmp(nm, ".git") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			child *k = realloc(kids, cap * sizeof *k);
			if (!k) {
				rc = OCI_ENOMEM_SET();
				goto cleanup;
			}
			kids = k;
		}
		child *c = &kids[n];
		if (!(c->name = strdup(nm))) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		c->len = strlen(nm);
		n++;
		if (fstatat(dirfd, nm, &c->st, AT_SYMLINK_NOFOLLOW) < 0) {
			char full[PATH_MAX];
			snprintf(full, sizeof full, "%s%s%s", rel, rel_len ? "/" : "", nm);
			rc = oci_error_errno("reading %s", display(w, full));
			goto cleanup;
		}
		errno = 0;
	}
	if (errno) {
		rc = oci_error_errno("reading directory %s", rel_len ? display(w, rel) : w->root);
		goto cleanup;
	}
	if (n) /* qsort may not be given a NULL array, even empty */
		qsort(kids, n, sizeof *kids, child_cmp);
	for (size_t i = 0; i < n; i++) {
		free(path);
		if (!(path = malloc(rel_len + kids[i].len + 2))) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		sprintf(path, "%s%s%s", rel, rel_len ? "/" : "", kids[i].name);
		if (oci__ignore_match_one(w->ig, path, S_ISDIR(kids[i].st.st_mode)))
			continue;
		if ((rc = visit(w, dirfd, path, &kids[i])) < 0)
			goto cleanup;
	}
cleanup:
	free(path);
	for (size_t i = 0; i < n; i++)
		free(kids[i].name);
	free(kids);
	if (d)
		closedir(d);
	return rc;
}

int oci__walk(const char *path, const oci_pack_opts *opts, oci__walk_fn fn, void *ctx)
{
	int rc = 0, fd = -1;
	char *ignore_file = NULL;
	walker w = { .root = path, .fn = fn, .ctx = ctx };
	struct stat st;
	if ((rc = oci__opts_check(opts, "oci_pack_opts", OCI_PACK_OPTS_VERSION)) < 0)
		return rc;
	if (stat(path, &st) < 0)
		return oci_error_errno("packing %s", path);
	if (S_ISREG(st.st_mode)) {
		/* One file: the layer holds it at its basename. */
		const char *base = strrchr(path, '/');
		base = base ? base + 1 : path;
		if (!utf8_valid(base))
			return refuse_name(path);
		oci__walk_item it = { .rel = base, .type = 'f', .dirfd = AT_FDCWD, .name = path,
				      .follow = 1, .display = path, .size = st.st_size };
		return fn(ctx, &it);
	}
	if (!S_ISDIR(st.st_mode))
		return oci_error_set(OCI_EUNSUPPORTED, "%s is neither a directory nor a regular file", path);
	if ((rc = oci_ignore_new(&w.ig)) < 0)
		goto cleanup;
	if (asprintf(&ignore_file, "%s/.sourceignore", path) < 0) {
		ignore_file = NULL;
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if ((rc = oci_ignore_add_file(w.ig, ignore_file)) < 0)
		goto cleanup;
	if (opts && opts->ignore)
		for (size_t i = 0; i < opts->ignore->n; i++)
			if ((rc = oci_ignore_add(w.ig, opts->ignore->items[i])) < 0)
				goto cleanup;
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		rc = oci_error_errno("opening directory %s", path);
		goto cleanup;
	}
	rc = walk_dir(&w, fd, "");
cleanup:
	if (fd >= 0)
		close(fd);
	free(ignore_file);
	oci_ignore_free(w.ig);
	return rc;
}
