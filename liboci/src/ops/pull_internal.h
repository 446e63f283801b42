/* Private to ops/: pull with an earlier tree to recycle (sync). */
#ifndef OCI_OPS_PULL_INTERNAL_H
#define OCI_OPS_PULL_INTERNAL_H
#include "oci/pull.h"

/* A tree beside dest (in dest's parent) that may be updated in place into
 * dest instead of extracting into an empty temporary directory: the
 * revision sync would prune after this publish. */
typedef struct oci__pull_recycle {
	/* Called once the layer is known to be an archive and is about to be
	 * extracted (after verification and the manifest): moves the tree to
	 * a name the caller's cleanup sweeps, sets *dir (a name in dest's
	 * parent) and *index (a path: the tree's file index). 0 taken;
	 * otherwise the pull extracts fresh (nothing was moved). */
	int (*take)(void *ctx, const char **dir, const char **index);   /* NULL: nothing to recycle */
	void *ctx;
	/* in: the tree is made durable before it gets dest's name -- a
	 * recycle's own fsyncs when kept_durable (what it started as was
	 * durable) and it made them, one syncfs otherwise -- so that no tree
	 * is ever named before it is on disk */
	int flush, kept_durable;
	int flushed; /* out: it was (the caller need not flush again) */
	int taken; /* out: 1 when the tree was taken (and then updated into
		    * dest, or removed by the failed pull) */
	int64_t durable; /* out: what the update fsynced, -1 none (see
			  * oci__extract_recycle_at) */
} oci__pull_recycle;

/* oci_pull_digest, recycling r's tree when r is not NULL and has take. */
int oci__pull_digest(oci_pull_result *out, oci_target *t, const char *digest, const char *dest,
		     const oci_pull_opts *opts, oci__pull_recycle *r);

#endif
