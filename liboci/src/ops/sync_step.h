/* Private to the sync pass (ops/sync*.c): the state of one step and the
 * parts of it that live in their own files. */
#ifndef OCI_OPS_SYNC_STEP_H
#define OCI_OPS_SYNC_STEP_H
#include <stdint.h>
#include "oci/sync.h"
#include "oci/manifest.h"
#include "sync_internal.h"

/* --keep when not given: the revision in use and the one before it */
#define SYNC_DEFAULT_KEEP 2

typedef struct step {
	oci_sync_result *out;
	oci_target *t;
	const oci_sync_opts *o;
	const char *link;
	char revs[4096];            /* ROOT/.revisions */
	char state_path[4096];
	char hook_record[4096];
	char cur_hex[SYNC_HEX_LEN + 1];
	sync_state st;
	char *ref_text;             /* the reference as the hook and status show it */
	char *given_ref;            /* the reference as given: the metrics' ref label */
	char revoked[OCI_DIGEST_SIZE]; /* the published digest no trusted key verifies now */
	char revoked_msg[1200];     /* why, and what became of the link */
	struct sync_http *http;     /* --http-bind, NULL without */
	int64_t deadline_ms;        /* the step's (oci_clock_ms), 0 = none */
	int durable;                /* sync_materialise made the revision durable itself */
} step;

/* sync.c: one step; lock_fd >= 0 when the caller (the loop) holds the lock. */
int sync_step(oci_sync_result *out, oci_target *t, const oci_sync_opts *o, int lock_fd, sync_http *http);
/* sync.c: checks the options and makes ROOT exist (not a symlink). */
int sync_prepare_root(const oci_sync_opts *o);

/* sync_materialise.c: the published artifact's source annotations into
 * the state (m NULL: cleared). */
int sync_remember_annotations(sync_state *st, const oci_manifest *m);
/* sync_materialise.c: makes ROOT/.revisions/<hex> exist, complete and verified. */
int sync_materialise(step *s, const char *hex);

#endif
