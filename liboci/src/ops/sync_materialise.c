/* sync: making the revision a step publishes -- fetched by digest,
 * verified and extracted read-only into ROOT/.revisions/<hex> (hard links
 * to the revision in use for unchanged files), or reused when an earlier
 * run left it whole -- and the source annotations the state keeps. */
#include "oci/pull.h"
#include "oci/push.h"
#include "oci/manifest.h"
#include "sync_step.h"
#include "pull_internal.h"
#include "error_internal.h"
#include "contract.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Paths are built in fixed buffers; sync_prepare_root refuses roots long
 * enough to overflow them, so truncation cannot happen. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define ANN_CREATED "org.opencontainers.image.created"
#define ANN_SOURCE "org.opencontainers.image.source"
#define ANN_REVISION "org.opencontainers.image.revision"

/* Source annotations of the published artifact, kept in the state so an
 * unchanged step can report them without a request. */
int sync_remember_annotations(sync_state *st, const oci_manifest *m)
{
	int rc = sync_state_set(&st->created, m ? oci_kvlist_get(&m->annotations, ANN_CREATED) : NULL);
	if (!rc)
		rc = sync_state_set(&st->source, m ? oci_kvlist_get(&m->annotations, ANN_SOURCE) : NULL);
	if (!rc)
		rc = sync_state_set(&st->revision, m ? oci_kvlist_get(&m->annotations, ANN_REVISION) : NULL);
	if (!rc)
		rc = sync_state_set(&st->policy, m ? oci_kvlist_get(&m->annotations, OCI_ANNOTATION_POLICY) : NULL);
	if (!rc)
		rc = sync_state_set(&st->policy_findings,
				    m ? oci_kvlist_get(&m->annotations, OCI_ANNOTATION_POLICY_FINDINGS) : NULL);
	return rc;
}

static int fetch_manifest(oci_manifest **m, oci_target *t, const char *digest)
{
	oci_buf buf = OCI_BUF_INIT;
	char *mt = NULL;
	int rc = oci_target_manifest_get(&buf, &mt, NULL, t, digest);
	if (!rc)
		rc = oci_manifest_parse(m, buf.data, buf.len, mt);
	free(mt);
	oci_buf_dispose(&buf);
	return rc;
}
/* The revision this publish would prune, recycled: taken aside only once
 * the pull is about to extract (a failed verification or download loses
 * no kept revision). */
typedef struct recycler {
	const char *root;
	char hex[SYNC_HEX_LEN + 1];
	char dir[SYNC_HEX_LEN + 16];
	char index[4200];
} recycler;

static int take_revision(void *ctx, const char **dir, const char **index)
{
	recycler *r = ctx;
	int rc = sync_recycle_take(r->dir, r->index, r->root, r->hex);
	*dir = r->dir;
	*index = r->index;
	return rc;
}

/* 1 when this root published hex (it is in the history). */
static int published(const step *s, const char *hex)
{
	for (size_t i = 0; i < s->st.history.n; i++)
		if (!strcmp(s->st.history.items[i], hex))
			return 1;
	return 0;
}

/* Makes ROOT/.revisions/<hex> exist, complete and verified. */
int sync_materialise(step *s, const char *hex)
{
	oci_sync_result *out = s->out;
	const oci_sync_opts *o = s->o;
	oci_manifest *m = NULL;
	int rc = 0;
	if (sync_revision_exists(o->root, hex)) {
		/* Left by an earlier run (killed before the swap, or an older
		 * revision the tag moved back to): complete, since it only got its
		 * name once whole. Keys may have changed since: verify again. */
		out->reused_revision = 1;
		if (o->verify && (rc = o->verify(o->verify_ctx, s->t, out->digest)) != 0) {
			if (rc > 0 || oci_error_last()->code == 0)
				rc = oci_error_set(OCI_EVERIFY, "signature verification of %s failed", out->digest);
			return rc;
		}
		if ((rc = fetch_manifest(&m, s->t, out->digest)) == 0)
			rc = sync_remember_annotations(&s->st, m);
		oci_manifest_free(m);
		return rc;
	}
	char prev_dir[4096], prev_index[4096], index_out[4096];
	oci_pull_opts po;
	oci_pull_opts_init(&po);
	po.verify = o->verify;
	po.verify_ctx = o->verify_ctx;
	po.extract.read_only = 1;
	po.extract.subpath = o->path;
	po.extract.max_size = o->max_size;
	po.extract.max_entries = o->max_entries;
	po.publisher_limits = o->publisher_limits;
	snprintf(index_out, sizeof index_out, "%s/%s.index", s->revs, hex);
	po.extract.index_out = index_out;
	if (s->cur_hex[0]) {
		/* incremental: unchanged files become hard links to the revision in use */
		snprintf(prev_dir, sizeof prev_dir, "%s/%s", s->revs, s->cur_hex);
		snprintf(prev_index, sizeof prev_index, "%s/%s.index", s->revs, s->cur_hex);
		struct stat st;
		if (stat(prev_dir, &st) == 0 && stat(prev_index, &st) == 0) {
			po.extract.reuse_dir = prev_dir;
			po.extract.reuse_index = prev_index;
		}
	}
	/* Once --keep revisions exist, the one this publish would prune is
	 * updated in place into the new one (only when there is a revision in
	 * use to link from and the candidate has its index). */
	recycler rcy = { .root = o->root };
	oci__pull_recycle pull_rcy = { .ctx = &rcy, .flush = 1 };
	int keep = o->keep > 0 ? o->keep : SYNC_DEFAULT_KEEP;
	if (po.extract.reuse_dir && sync_recycle_candidate(rcy.hex, o->root, keep, s->cur_hex, &s->st.history) != 1)
		oci_error_clear(); /* no candidate, or none readable: a fresh tree */
	if (rcy.hex[0]) {
		pull_rcy.take = take_revision;
		/* what the recycle fsyncs is enough only when the revision it
		 * starts as was durable: one this root published */
		pull_rcy.kept_durable = published(s, rcy.hex);
	}
	oci_pull_result pr;
	memset(&pr, 0, sizeof pr);
	rc = oci__pull_digest(&pr, s->t, out->digest, out->revision_dir, &po, &pull_rcy);
	if (pull_rcy.taken)
		unlink(rcy.index); /* the recycled tree's index: the new one replaces it */
	if (rc == 0) {
		out->stats = pr.stats;
		s->durable = pull_rcy.flushed;
		if (pull_rcy.taken && pull_rcy.durable >= 0 && pull_rcy.kept_durable)
			oci__log(&o->callbacks, OCI_LOG_INFO,
				 "recycled revision %s into %s (%lld files kept or linked, %lld written; %lld made durable)",
				 rcy.hex, hex, (long long)pr.stats.files_linked, (long long)pr.stats.files_written,
				 (long long)pull_rcy.durable);
		else if (pull_rcy.taken)
			oci__log(&o->callbacks, OCI_LOG_INFO,
				 "recycled revision %s into %s (%lld files kept or linked, %lld written; the filesystem synced)",
				 rcy.hex, hex, (long long)pr.stats.files_linked, (long long)pr.stats.files_written);
		rc = sync_remember_annotations(&s->st, pr.manifest);
	} else {
		unlink(index_out); /* the revision did not appear: neither does its index */
	}
	oci_pull_result_dispose(&pr);
	return rc;
}
