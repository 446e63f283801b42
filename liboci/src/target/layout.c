/* The OCI image layout target: "oci-layout" + "index.json" + "blobs/sha256/".
 * Blobs are written under a temporary name, verified, then renamed; the
 * index is rewritten atomically under a lock so concurrent writers and
 * readers (skopeo, oras) never see a half-written file. */
#include "target_impl.h"
#include "error_internal.h"
#include "contract.h"
#include "fileutil.h"
#include "oci/manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define REF_NAME "org.opencontainers.image.ref.name"
#define INDEX_MAX (64 * 1024 * 1024)

typedef struct layout {
	char *dir;
	int held_lock;  /* the index lock's fd while locked() runs, else -1 */
	int swept;      /* killed writers' temporaries removed (once per target) */
	int ready;      /* ensure_layout done */
} layout;

static layout *L(oci_target *t) { return t->impl; }

/* blobs/sha256/.ocisync-tmp-<pid>-XXXXXX while a blob is written */
#define BLOB_TMP_PREFIX ".ocisync-tmp"

static char *blob_path(const layout *l, const char *digest)
{
	char *p = NULL;
	if (asprintf(&p, "%s/blobs/sha256/%s", l->dir, oci_digest_hex(digest)) < 0)
		return NULL;
	return p;
}

static int lock_layout(layout *l, const oci_client_opts *o);

/* Creates oci-layout, index.json and blobs/sha256 when missing, once per
 * handle. The files are created under the layout lock, checked again once
 * it is held: a push that found index.json missing must not write an empty
 * one over the index another push just tagged (both creating the layout). */
static int ensure_layout(layout *l, const oci_client_opts *o)
{
	char *p = NULL;
	int rc, lock;
	if (l->ready)
		return 0;
	if (asprintf(&p, "%s/blobs/sha256", l->dir) < 0)
		return OCI_ENOMEM_SET();
	rc = oci_mkdirs(p, 0755);
	free(p);
	if (rc < 0)
		return oci_error_wrap("oci-layout:%s", l->dir);
	if (!l->swept) {
		/* what killed pushes, copies and tags left (their pid is gone) */
		l->swept = 1;
		if (asprintf(&p, "%s/blobs/sha256", l->dir) < 0)
			return OCI_ENOMEM_SET();
		oci_tmp_sweep(p, BLOB_TMP_PREFIX);
		free(p);
		oci_tmp_sweep(l->dir, "index.json.tmp");
	}
	if ((lock = lock_layout(l, o)) < 0)
		return lock;
	if (asprintf(&p, "%s/oci-layout", l->dir) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (access(p, F_OK) < 0) {
		const char *v = "{\"imageLayoutVersion\":\"1.0.0\"}";
		rc = oci_write_file_atomic(p, v, strlen(v), 0644, 1);
	}
	free(p);
	if (rc < 0)
		goto cleanup;
	if (asprintf(&p, "%s/index.json", l->dir) < 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	if (access(p, F_OK) < 0) {
		const char *v = "{\"schemaVersion\":2,\"mediaType\":\"" OCI_MT_INDEX "\",\"manifests\":[]}";
		rc = oci_write_file_atomic(p, v, strlen(v), 0644, 1);
	}
	free(p);
	l->ready = rc == 0;
cleanup:
	close(lock);
	return rc;
}

/* Loads index.json; a missing layout reads as an empty index so that
 * lookups give "not found" rather than an I/O error. */
static int load_index(json_t **out, layout *l, int *missing)
{
	char *p = NULL;
	oci_buf b = OCI_BUF_INIT;
	int rc;
	*out = NULL;
	if (missing)
		*missing = 0;
	if (asprintf(&p, "%s/index.json", l->dir) < 0)
		return OCI_ENOMEM_SET();
	rc = oci_read_file(&b, p, INDEX_MAX);
	if (rc == OCI_ENOTFOUND) {
		if (missing)
			*missing = 1;
		*out = json_pack("{s:i, s:s, s:[]}", "schemaVersion", 2, "mediaType", OCI_MT_INDEX, "manifests");
		rc = 0;
		goto cleanup;
	}
	if (rc < 0)
		goto cleanup;
	json_error_t jerr;
	json_t *root = json_loadb(b.data, b.len, 0, &jerr);
	if (!root || !json_is_object(root) || !json_is_array(json_object_get(root, "manifests"))) {
		json_decref(root);
		rc = oci_error_set(OCI_EINVALID, "%s is not a valid OCI index%s%s", p, root ? "" : ": ",
				   root ? "" : jerr.text);
		goto cleanup;
	}
	*out = root;
cleanup:
	free(p);
	oci_buf_dispose(&b);
	return rc;
}

static int save_index(layout *l, json_t *index)
{
	char *p = NULL, *text = NULL;
	int rc;
	if (asprintf(&p, "%s/index.json", l->dir) < 0)
		return OCI_ENOMEM_SET();
	text = json_dumps(index, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (!text)
		rc = OCI_ENOMEM_SET();
	else
		rc = oci_write_file_atomic(p, text, strlen(text), 0644, 1);
	free(text);
	free(p);
	return rc;
}

/* How long a writer waits for another's index lock when the operation
 * has no deadline: it is held for milliseconds, so this is a stuck
 * (stopped, hung) holder, not a busy one. */
#define LOCK_WAIT_MS (120 * 1000)

/* Exclusive lock over the index for read-modify-write, waiting at most
 * until the operation's deadline (or LOCK_WAIT_MS). Returns the fd. */
static int lock_layout(layout *l, const oci_client_opts *o)
{
	char *p = NULL;
	/* Inside locked(): a duplicate shares the open file description that
	 * holds the flock, so closing it does not release the lock. */
	if (l->held_lock >= 0) {
		int fd = dup(l->held_lock);
		return fd >= 0 ? fd : oci_error_errno("locking oci-layout:%s", l->dir);
	}
	if (asprintf(&p, "%s/.ocisync.lock", l->dir) < 0)
		return OCI_ENOMEM_SET();
	int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = oci_error_errno("locking %s", p);
		free(p);
		return rc;
	}
	free(p);
	int64_t start = oci_clock_ms();
	int64_t until = o->deadline_ms ? o->deadline_ms : start + LOCK_WAIT_MS;
	long pause_ms = 1;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			close(fd);
			return oci_error_errno("locking oci-layout:%s", l->dir);
		}
		if (oci_clock_ms() >= until) {
			close(fd);
			if (o->deadline_ms)
				return oci_error_set(OCI_ETIMEOUT, "timeout: oci-layout:%s: another process held its index lock "
						     "past the deadline; gave up", l->dir),
				       oci_error_hint_set(OCI_HINT_RAISE_TIMEOUT, NULL);
			return oci_error_set(OCI_ELOCKED, "oci-layout:%s: another process has held its index lock for %d s; gave up",
					     l->dir, LOCK_WAIT_MS / 1000);
		}
		struct timespec ts = { 0, pause_ms * 1000000L };
		nanosleep(&ts, NULL);
		if (pause_ms < 64)
			pause_ms *= 2;
	}
	return fd;
}

/* An index entry names a tag (its ref.name) or a digest. */
static int find_entry_match(const json_t *e, const char *tag_or_digest)
{
	if (strncmp(tag_or_digest, "sha256:", 7) == 0) {
		const char *d = json_string_value(json_object_get(e, "digest"));
		return d && !strcmp(d, tag_or_digest);
	}
	const char *n = json_string_value(json_object_get(json_object_get(e, "annotations"), REF_NAME));
	return n && !strcmp(n, tag_or_digest);
}

/* The index entry for a tag (or digest), or NULL. */
static json_t *find_entry(json_t *index, const char *tag_or_digest)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(index, "manifests"), i, e)
		if (find_entry_match(e, tag_or_digest))
			return e;
	return NULL;
}

static int read_manifest_blob(layout *l, const char *digest, oci_buf *out)
{
	char *p = blob_path(l, digest);
	if (!p)
		return OCI_ENOMEM_SET();
	int rc = oci_read_file(out, p, OCI_MANIFEST_MAX);
	if (rc == OCI_ENOTFOUND)
		rc = oci_error_set(OCI_ENOTFOUND, "oci-layout:%s: manifest %s not found", l->dir, digest);
	else if (rc == OCI_ELIMIT)
		rc = oci_error_set(OCI_ELIMIT, "oci-layout:%s: manifest %s is over the 4 MiB limit", l->dir, digest);
	free(p);
	if (rc < 0)
		return rc;
	char got[OCI_DIGEST_SIZE];
	if ((rc = oci_digest_buf(got, out->data, out->len)) < 0)
		return rc;
	if (strcmp(got, digest) != 0)
		return oci_error_set(OCI_EDIGEST, "oci-layout:%s: manifest %s does not match its digest (got %s)",
				     l->dir, digest, got);
	return 0;
}

/* The mediaType a manifest document declares, or NULL. */
static char *declared_type(const oci_buf *b)
{
	json_t *j = json_loadb(b->data, b->len, 0, NULL);
	const char *mt = json_string_value(json_object_get(j, "mediaType"));
	char *r = NULL;
	if (mt)
		r = strdup(mt);
	else if (json_object_get(j, "manifests"))
		r = strdup(OCI_MT_INDEX);
	else if (j)
		r = strdup(OCI_MT_MANIFEST);
	json_decref(j);
	return r;
}

static int layout_resolve(oci_target *t, const char *ref, char digest[OCI_DIGEST_SIZE], char **media_type,
			  int64_t *size)
{
	layout *l = L(t);
	json_t *index = NULL;
	int missing = 0;
	int rc = load_index(&index, l, &missing);
	if (rc < 0)
		return rc;
	if (strncmp(ref, "sha256:", 7) == 0) {
		oci_buf b = OCI_BUF_INIT;
		rc = read_manifest_blob(l, ref, &b);
		if (rc == 0) {
			memcpy(digest, ref, OCI_DIGEST_SIZE);
			*media_type = declared_type(&b);
			*size = (int64_t)b.len;
		}
		oci_buf_dispose(&b);
		goto cleanup;
	}
	json_t *e = find_entry(index, ref);
	if (!e) {
		rc = oci_error_set(OCI_ENOTFOUND, "oci-layout:%s: tag '%s' not found%s", l->dir, ref,
				   missing ? " (no layout there)" : "");
		goto cleanup;
	}
	const char *d = json_string_value(json_object_get(e, "digest"));
	const char *mt = json_string_value(json_object_get(e, "mediaType"));
	json_t *sz = json_object_get(e, "size");
	if (!d || oci_digest_validate(d) < 0 || !json_is_integer(sz)) {
		rc = oci_error_set(OCI_EINVALID, "oci-layout:%s: index entry for '%s' is malformed", l->dir, ref);
		goto cleanup;
	}
	snprintf(digest, OCI_DIGEST_SIZE, "%s", d);
	*media_type = mt ? strdup(mt) : NULL;
	*size = json_integer_value(sz);
cleanup:
	json_decref(index);
	return rc;
}

static int layout_manifest_get(oci_target *t, const char *ref, oci_buf *out, char **media_type,
			       char digest_out[OCI_DIGEST_SIZE])
{
	char digest[OCI_DIGEST_SIZE];
	char *mt = NULL;
	int64_t size = -1;
	int rc = layout_resolve(t, ref, digest, &mt, &size);
	if (rc < 0)
		return rc;
	free(mt);
	if ((rc = read_manifest_blob(L(t), digest, out)) < 0)
		return rc;
	*media_type = declared_type(out);
	memcpy(digest_out, digest, OCI_DIGEST_SIZE);
	return 0;
}

/* Writes a blob from a source: an atomic file that is renamed into place
 * (over an existing, even damaged, blob) only once its digest checks out. */
static int put_blob_stream(oci_target *t, const char *digest, int64_t size, oci_read_fn src, void *ctx)
{
	layout *l = L(t);
	int rc = ensure_layout(l, &t->opts);
	if (rc < 0)
		return rc;
	char *final = blob_path(l, digest);
	if (!final)
		return OCI_ENOMEM_SET();
	oci_ostream *file, *v;
	oci_istream *in;
	if ((rc = oci_ostream_atomic(&file, AT_FDCWD, final, 0644, OCI_STREAM_DURABLE, BLOB_TMP_PREFIX)) == 0 &&
	    (rc = oci_ostream_verify(&v, file, size, digest, "blob")) == 0) {
		if ((rc = oci_istream_fn(&in, src, ctx)) == 0) {
			rc = oci_istream_pump(in, oci_ostream_sink, v);
			oci_istream_close(in);
		}
		if (rc < 0)
			oci_ostream_abort(v);
		else
			rc = oci_ostream_commit(v);
	}
	free(final);
	return rc;
}

static int layout_blob_put(oci_target *t, const char *digest, int64_t size, oci_read_fn src, void *ctx)
{
	int rc = put_blob_stream(t, digest, size, src, ctx);
	if (rc < 0)
		oci_error_wrap("oci-layout:%s: storing blob %s", L(t)->dir, digest);
	return rc;
}

/* Adds or replaces the index entry naming tag. Callers hold the lock. */
static int set_tag(layout *l, const char *tag, const char *digest, const char *media_type, int64_t size)
{
	json_t *index = NULL;
	int rc = load_index(&index, l, NULL);
	if (rc < 0)
		return rc;
	json_t *manifests = json_object_get(index, "manifests");
	/* Re-tagging replaces the old entry: a tag names one manifest. */
	size_t i = 0;
	while (i < json_array_size(manifests)) {
		json_t *e = json_array_get(manifests, i);
		const char *n = json_string_value(json_object_get(json_object_get(e, "annotations"), REF_NAME));
		if (n && !strcmp(n, tag))
			json_array_remove(manifests, i);
		else
			i++;
	}
	json_t *entry = json_pack("{s:s, s:s, s:I, s:{s:s}}", "mediaType", media_type ? media_type : OCI_MT_MANIFEST,
				  "digest", digest, "size", (json_int_t)size, "annotations", REF_NAME, tag);
	if (!entry) {
		json_decref(index);
		return OCI_ENOMEM_SET();
	}
	json_array_append_new(manifests, entry);
	rc = save_index(l, index);
	json_decref(index);
	return rc;
}

static int layout_manifest_put(oci_target *t, const char *tag, const char *media_type, const void *data, size_t len)
{
	layout *l = L(t);
	char digest[OCI_DIGEST_SIZE];
	int rc = oci_digest_buf(digest, data, len);
	if (rc < 0)
		return rc;
	oci_mem_source m = { data, len, 0 };
	if ((rc = put_blob_stream(t, digest, (int64_t)len, oci_mem_source_read, &m)) < 0)
		return oci_error_wrap("oci-layout:%s: storing manifest", l->dir);
	if (!tag)
		return 0;
	int lock = lock_layout(l, &t->opts);
	if (lock < 0)
		return lock;
	rc = set_tag(l, tag, digest, media_type, (int64_t)len);
	close(lock);
	return rc;
}

static int layout_tag(oci_target *t, const char *digest, const char *tag)
{
	layout *l = L(t);
	oci_buf b = OCI_BUF_INIT;
	int rc = read_manifest_blob(l, digest, &b);
	if (rc == 0) {
		char *mt = declared_type(&b);
		int lock = lock_layout(l, &t->opts);
		if (lock < 0)
			rc = lock;
		else {
			rc = set_tag(l, tag, digest, mt, (int64_t)b.len);
			close(lock);
		}
		free(mt);
	}
	oci_buf_dispose(&b);
	return rc;
}

/* Removes the index entries a digest (all of them) or a tag names, under
 * the index lock. The blobs stay: another manifest may share them, and a
 * garbage collection is what removes unreferenced ones. */
static int layout_manifest_delete(oci_target *t, const char *ref)
{
	layout *l = L(t);
	struct stat st;
	if (stat(l->dir, &st) < 0) /* nothing to delete; no lock file made */
		return oci_error_set(OCI_ENOTFOUND, "oci-layout:%s: '%s' not found (no layout there)", l->dir, ref);
	int lock = lock_layout(l, &t->opts);
	if (lock < 0)
		return lock;
	json_t *index = NULL;
	int missing = 0, removed = 0;
	int rc = load_index(&index, l, &missing);
	if (rc == 0) {
		json_t *manifests = json_object_get(index, "manifests");
		size_t i = 0;
		while (i < json_array_size(manifests)) {
			json_t *e = json_array_get(manifests, i);
			if (find_entry_match(e, ref)) {
				json_array_remove(manifests, i);
				removed++;
			} else {
				i++;
			}
		}
		if (!removed)
			rc = oci_error_set(OCI_ENOTFOUND, "oci-layout:%s: %s '%s' not found%s", l->dir,
					   strncmp(ref, "sha256:", 7) ? "tag" : "manifest", ref, missing ? " (no layout there)" : "");
		else
			rc = save_index(l, index);
	}
	json_decref(index);
	close(lock);
	return rc;
}

static int layout_blob_exists(oci_target *t, const char *digest, int64_t *size)
{
	char *p = blob_path(L(t), digest);
	if (!p)
		return OCI_ENOMEM_SET();
	struct stat st;
	int r = stat(p, &st) == 0 && S_ISREG(st.st_mode);
	if (r && size)
		*size = st.st_size;
	free(p);
	return r;
}

static int layout_blob_open(oci_target *t, const char *digest, int64_t size, oci_istream **out)
{
	layout *l = L(t);
	(void)size; /* target.c checks it */
	char *p = blob_path(l, digest);
	if (!p)
		return OCI_ENOMEM_SET();
	int rc, fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		rc = errno == ENOENT ? oci_error_set(OCI_ENOTFOUND, "oci-layout:%s: blob %s not found", l->dir, digest)
				     : oci_error_errno("opening %s", p);
	else
		rc = oci_istream_fd(out, fd, p, 1);
	free(p);
	return rc;
}

static int layout_tags(oci_target *t, oci_strlist *out)
{
	json_t *index = NULL;
	int rc = load_index(&index, L(t), NULL);
	if (rc < 0)
		return rc;
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(index, "manifests"), i, e) {
		const char *n = json_string_value(json_object_get(json_object_get(e, "annotations"), REF_NAME));
		if (n && (rc = oci_strlist_push(out, n)) < 0)
			break;
	}
	json_decref(index);
	return rc;
}

static void layout_free(oci_target *t)
{
	layout *l = L(t);
	if (l) {
		free(l->dir);
		free(l);
	}
}

/* Read-modify-write of the referrers tag (referrers.c) under the same lock
 * as every index write, so two writers in this layout never lose an entry. */
static int layout_locked(oci_target *t, int (*fn)(void *ctx), void *ctx)
{
	layout *l = L(t);
	int rc = ensure_layout(l, &t->opts);
	if (rc < 0)
		return rc;
	int fd = lock_layout(l, &t->opts);
	if (fd < 0)
		return fd;
	l->held_lock = fd;
	rc = fn(ctx);
	l->held_lock = -1;
	close(fd);
	return rc;
}

static const oci_target_ops layout_ops = {
	.kind = "oci-layout",
	.resolve = layout_resolve,
	.manifest_get = layout_manifest_get,
	.manifest_put = layout_manifest_put,
	.tag = layout_tag,
	.blob_exists = layout_blob_exists,
	.blob_open = layout_blob_open,
	.blob_put = layout_blob_put,
	.tags = layout_tags,
	.free = layout_free,
	.locked = layout_locked,
	.manifest_delete = layout_manifest_delete,
};

int oci_layout_open(oci_target *t)
{
	layout *l = calloc(1, sizeof *l);
	if (!l || !(l->dir = strdup(t->ref->path))) {
		free(l);
		return OCI_ENOMEM_SET();
	}
	/* Strip trailing slashes so messages and paths read cleanly. */
	size_t n = strlen(l->dir);
	while (n > 1 && l->dir[n - 1] == '/')
		l->dir[--n] = '\0';
	struct stat st;
	if (stat(l->dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
		int rc = oci_error_set(OCI_EINVALID, "oci-layout:%s is not a directory", l->dir);
		free(l->dir);
		free(l);
		return rc;
	}
	l->held_lock = -1;
	t->impl = l;
	t->ops = &layout_ops;
	return 0;
}
