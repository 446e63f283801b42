/* copy and tag, written once against targets: any target to any target.
 *
 * A copy first reads every manifest it will write (an index's children
 * too) and gathers their blobs, then moves the blobs dst lacks: mounted
 * from another repository of the same registry when possible, the rest in
 * parallel (transfer.c: src → temporary file, verified → dst; from an
 * oci-layout to a registry, the layout's files themselves). Only when
 * every blob is there are manifests written, children before the index
 * that names them, the tag last: a failed copy leaves no tag (nor any
 * manifest) pointing at missing content. */
#include "oci/copy.h"
#include "oci/manifest.h"
#include "oci/resolve.h"
#include "oci/sign.h"
#include "oci/referrers.h"
#include "error_internal.h"
#include "fileutil.h"
#include "transfer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INDEX_DEPTH 4
#define COPY_PARALLEL 4
#define SMALL_BLOB (64 * 1024) /* uploaded without a HEAD once a large blob was missing */

struct copy_manifest {
	char digest[OCI_DIGEST_SIZE];
	char *media_type;
	oci_buf bytes;
};

struct copy_blob {
	char digest[OCI_DIGEST_SIZE];
	int64_t size;
};

/* What a copy writes, in the order it writes it. */
struct plan {
	struct copy_manifest *manifests; /* children before their index */
	size_t nmanifests;
	struct copy_blob *blobs;         /* each digest once */
	size_t nblobs;
};

static void plan_dispose(struct plan *p)
{
	for (size_t i = 0; i < p->nmanifests; i++) {
		free(p->manifests[i].media_type);
		oci_buf_dispose(&p->manifests[i].bytes);
	}
	free(p->manifests);
	free(p->blobs);
	memset(p, 0, sizeof *p);
}

static int plan_add_blob(struct plan *p, const oci_descriptor *d)
{
	for (size_t i = 0; i < p->nblobs; i++)
		if (strcmp(p->blobs[i].digest, d->digest) == 0)
			return 0;
	struct copy_blob *nb = realloc(p->blobs, (p->nblobs + 1) * sizeof *nb);
	if (!nb)
		return OCI_ENOMEM_SET();
	p->blobs = nb;
	memcpy(nb[p->nblobs].digest, d->digest, OCI_DIGEST_SIZE);
	nb[p->nblobs].size = d->size;
	p->nblobs++;
	return 0;
}

static int plan_has_manifest(const struct plan *p, const char *digest)
{
	for (size_t i = 0; i < p->nmanifests; i++)
		if (strcmp(p->manifests[i].digest, digest) == 0)
			return 1;
	return 0;
}

/* Reads the manifest at digest (and an index's children, first) into the
 * plan. Manifests are small (at most OCI_MANIFEST_MAX): kept in memory so
 * that what is written is exactly what was read. */
static int plan_manifest(struct plan *p, oci_target *src, const char *digest, int depth)
{
	oci_buf b = OCI_BUF_INIT;
	char *mt = NULL;
	oci_manifest *m = NULL;
	int rc;
	if (depth > MAX_INDEX_DEPTH)
		return oci_error_set(OCI_EINVALID, "indexes nested more than %d deep", MAX_INDEX_DEPTH);
	if (plan_has_manifest(p, digest))
		return 0;
	if ((rc = oci_target_manifest_get(&b, &mt, NULL, src, digest)) < 0)
		goto cleanup;
	if ((rc = oci_manifest_parse(&m, b.data, b.len, mt)) < 0) {
		oci_error_wrap("manifest %s", digest);
		goto cleanup;
	}
	if (m->is_index) {
		for (size_t i = 0; i < m->nlayers && rc == 0; i++)
			rc = plan_manifest(p, src, m->layers[i].digest, depth + 1);
	} else {
		rc = plan_add_blob(p, &m->config);
		for (size_t i = 0; i < m->nlayers && rc == 0; i++)
			rc = plan_add_blob(p, &m->layers[i]);
	}
	if (rc < 0)
		goto cleanup;
	struct copy_manifest *nm = realloc(p->manifests, (p->nmanifests + 1) * sizeof *nm);
	if (!nm) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	p->manifests = nm;
	nm = &p->manifests[p->nmanifests];
	memset(nm, 0, sizeof *nm);
	snprintf(nm->digest, sizeof nm->digest, "%s", digest);
	nm->media_type = mt ? mt : strdup(m->media_type);
	mt = NULL;
	if (!nm->media_type) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	nm->bytes = b;
	b = (oci_buf)OCI_BUF_INIT;
	p->nmanifests++;
cleanup:
	oci_manifest_free(m);
	free(mt);
	oci_buf_dispose(&b);
	return rc;
}

static int larger_first(const void *a, const void *b)
{
	int64_t x = (*(const struct copy_blob *const *)a)->size, y = (*(const struct copy_blob *const *)b)->size;
	return x > y ? -1 : x < y;
}

/* Moves every blob of the plan dst lacks: a look at dst and a mount try
 * one by one (small requests on one connection), then the downloads and
 * uploads of the rest in parallel. */
static int copy_blobs(oci_target *src, oci_target *dst, const struct plan *p)
{
	oci_blob_job *jobs = calloc(p->nblobs ? p->nblobs : 1, sizeof *jobs);
	char **paths = calloc(p->nblobs ? p->nblobs : 1, sizeof *paths);
	const struct copy_blob **order = calloc(p->nblobs ? p->nblobs : 1, sizeof *order);
	char *dir = NULL;
	size_t n = 0;
	int rc = 0;
	if (!jobs || !paths || !order) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	/* Largest first: once one is missing, dst is new to this artifact and
	 * a small blob after it (a config) is sent without asking -- its
	 * upload costs what the HEAD would (a copy of a two-blob artifact to a
	 * fresh repository: HEAD layer, upload config, upload layer, manifest). */
	for (size_t i = 0; i < p->nblobs; i++)
		order[i] = &p->blobs[i];
	qsort(order, p->nblobs, sizeof *order, larger_first);
	int missing = 0;
	for (size_t i = 0; i < p->nblobs; i++) {
		const struct copy_blob *b = order[i];
		rc = missing && b->size <= SMALL_BLOB ? 0 : oci_target_blob_exists(dst, b->digest, NULL);
		if (rc < 0 || (rc == 0 && (rc = oci_target_blob_mount(dst, b->digest, src)) < 0)) {
			oci_error_wrap("copying blob %s", b->digest);
			goto cleanup;
		}
		if (rc == 0)
			jobs[n++] = (oci_blob_job){ .digest = b->digest, .size = b->size };
		missing |= rc == 0;
	}
	rc = 0;
	if (n == 0)
		goto cleanup;
	const oci_ref *from = oci_target_ref(src);
	if (from->kind == OCI_REF_LAYOUT && oci_target_ref(dst)->kind == OCI_REF_REGISTRY) {
		/* The layout's own files go up as they are, no copy through a
		 * temporary: the registry checks every blob against its digest
		 * (DIGEST_INVALID) before the manifest can name it. */
		for (size_t i = 0; i < n && rc == 0; i++) {
			if (asprintf(&paths[i], "%s/blobs/sha256/%s", from->path, oci_digest_hex(jobs[i].digest)) < 0) {
				paths[i] = NULL;
				rc = OCI_ENOMEM_SET();
			}
			jobs[i].path = paths[i];
		}
		if (rc == 0)
			rc = oci_transfer_put(dst, jobs, n, COPY_PARALLEL);
		for (size_t i = 0; i < n; i++)
			free(paths[i]);
		n = 0; /* the layout's files: none to remove */
		goto cleanup;
	}
	const char *tmpd = getenv("TMPDIR");
	oci_tmp_sweep(tmpd && *tmpd ? tmpd : "/tmp", "ocisync-copy"); /* killed copies' blobs */
	if ((rc = oci_tmp_template(&dir, tmpd && *tmpd ? tmpd : "/tmp", "ocisync-copy")) < 0)
		goto cleanup;
	if (!mkdtemp(dir)) {
		rc = oci_error_errno("creating %s", dir);
		free(dir);
		dir = NULL;
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		if (asprintf(&paths[i], "%s/%zu", dir, i) < 0) {
			paths[i] = NULL;
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
		jobs[i].path = paths[i];
	}
	rc = oci_transfer_copy(src, dst, jobs, n, COPY_PARALLEL);
cleanup:
	for (size_t i = 0; i < n && paths; i++) {
		if (paths[i])
			unlink(paths[i]); /* the pool removes them; this is for a job never started */
		free(paths[i]);
	}
	if (dir)
		rmdir(dir);
	free(dir);
	free(paths);
	free(jobs);
	free(order);
	return rc;
}

/* Writes the plan's manifests in order; the last (the one the copy is of)
 * under tag when not NULL. */
static int put_manifests(oci_target *dst, const struct plan *p, size_t from, size_t to, const char *tag)
{
	for (size_t i = from; i < to; i++) {
		const struct copy_manifest *m = &p->manifests[i];
		int rc = oci_target_manifest_put(dst, i + 1 == to ? tag : NULL, m->media_type, m->bytes.data,
						 m->bytes.len);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int oci_copy(char digest_out[OCI_DIGEST_SIZE], oci_target *src, oci_target *dst, int flags)
{
	int with_signatures = (flags & OCI_COPY_SIGNATURES) != 0;
	char digest[OCI_DIGEST_SIZE], sigdigest[OCI_DIGEST_SIZE];
	char *sigtag = NULL;
	struct plan plan = { 0 };
	oci_referrers refs = OCI_REFERRERS_INIT;
	size_t nmain = 0, nsig = 0;
	int rc = oci_resolve_ref(digest, NULL, src);
	if (rc < 0)
		return rc;
	const oci_ref *sref = oci_target_ref(src), *dref = oci_target_ref(dst);
	const oci_strlist *tags = dref->tags.n ? &dref->tags : &sref->tags;
	if (dref->digest && strcmp(dref->digest, digest) != 0)
		return oci_error_set(OCI_EINVALID, "destination names digest %s but the source is %s", dref->digest, digest);
	if ((rc = plan_manifest(&plan, src, digest, 0)) < 0)
		goto cleanup;
	nmain = plan.nmanifests;
	if (with_signatures) {
		if ((rc = oci_signature_tag(&sigtag, digest)) < 0)
			goto cleanup;
		rc = oci_target_resolve(sigdigest, NULL, NULL, src, sigtag);
		if (rc == OCI_ENOTFOUND) {
			rc = 0; /* nothing signed it: nothing to carry */
			oci_error_clear();
			free(sigtag);
			sigtag = NULL;
		} else if (rc == 0) {
			rc = plan_manifest(&plan, src, sigdigest, 0);
		}
		if (rc < 0) {
			oci_error_wrap("copying signatures %s", sigtag ? sigtag : "");
			goto cleanup;
		}
		nsig = plan.nmanifests;
		/* OCI 1.1 referrers (Sigstore bundles, ...) travel too: read as the
		 * source has them (API or tag schema), written so dst lists them. */
		if ((rc = oci_referrers_list(&refs, src, digest, NULL)) < 0) {
			oci_error_wrap("listing the referrers of %s", digest);
			goto cleanup;
		}
		for (size_t i = 0; i < refs.n; i++) {
			rc = plan_manifest(&plan, src, refs.items[i].digest, 0);
			if (rc == OCI_ENOTFOUND) {
				/* Listed by a referrers tag but not stored (deleted,
				 * or junk in another tool's index): nothing to carry. */
				oci_error_clear();
				rc = 0;
			}
			if (rc < 0) {
				oci_error_wrap("copying referrer %s", refs.items[i].digest);
				goto cleanup;
			}
		}
	}
	if (with_signatures && !sigtag && refs.n == 0 && !(flags & OCI_COPY_ALLOW_UNSIGNED)) {
		char *shown = NULL;
		oci_ref_format(&shown, sref);
		oci_error_set(OCI_ENOTFOUND, "%s (%s) has no signatures to copy (no cosign .sig tag, no referrers): nothing copied",
			      shown ? shown : "the source", digest);
		rc = oci_error_hint_set(OCI_HINT_ALLOW_UNSIGNED, NULL);
		free(shown);
		goto cleanup;
	}
	if ((rc = copy_blobs(src, dst, &plan)) < 0)
		goto cleanup;
	if ((rc = put_manifests(dst, &plan, 0, nmain, tags->n ? tags->items[0] : NULL)) < 0)
		goto cleanup;
	for (size_t i = 1; i < tags->n; i++)
		if ((rc = oci_target_tag(dst, digest, tags->items[i])) < 0)
			goto cleanup;
	if (sigtag) {
		/* Planned already (as the artifact's own) means no new manifest:
		 * only the tag is written. */
		rc = nsig > nmain ? put_manifests(dst, &plan, nmain, nsig, sigtag) : oci_target_tag(dst, sigdigest, sigtag);
		if (rc < 0) {
			oci_error_wrap("copying signatures %s", sigtag);
			goto cleanup;
		}
	}
	for (size_t i = nsig ? nsig : nmain; with_signatures && i < plan.nmanifests; i++) {
		const struct copy_manifest *m = &plan.manifests[i];
		int is_referrer = 0;
		for (size_t k = 0; k < refs.n && !is_referrer; k++)
			is_referrer = strcmp(refs.items[k].digest, m->digest) == 0;
		/* An index entry whose manifest names another subject is not a
		 * referrer of this digest (junk in another tool's index): left out. */
		if (is_referrer && !oci_referrers_names_subject(m->bytes.data, m->bytes.len, digest))
			continue;
		rc = is_referrer ? oci_referrers_put(dst, digest, m->media_type, m->bytes.data, m->bytes.len)
				 : oci_target_manifest_put(dst, NULL, m->media_type, m->bytes.data, m->bytes.len);
		if (rc < 0) {
			oci_error_wrap("copying referrer %s", m->digest);
			goto cleanup;
		}
	}
	memcpy(digest_out, digest, OCI_DIGEST_SIZE);
cleanup:
	free(sigtag);
	oci_referrers_dispose(&refs);
	plan_dispose(&plan);
	return rc;
}

int oci_tag_add(char digest_out[OCI_DIGEST_SIZE], oci_target *t, const oci_strlist *new_tags)
{
	char digest[OCI_DIGEST_SIZE];
	int rc;
	for (size_t i = 0; i < new_tags->n; i++)
		if ((rc = oci_tag_validate(new_tags->items[i])) < 0)
			return rc;
	if ((rc = oci_resolve_ref(digest, NULL, t)) < 0)
		return rc;
	for (size_t i = 0; i < new_tags->n; i++)
		if ((rc = oci_target_tag(t, digest, new_tags->items[i])) < 0)
			return oci_error_wrap("tagging %s as %s", digest, new_tags->items[i]);
	memcpy(digest_out, digest, OCI_DIGEST_SIZE);
	return 0;
}
