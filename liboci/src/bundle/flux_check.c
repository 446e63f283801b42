/* What Flux would not take as packed. source-controller extracts an
 * OCIRepository layer with fluxcd/pkg/tar's Untar and WithSkipSymlinks:
 * a symlink entry is dropped without a word (the file is simply missing
 * on the cluster), and an entry name that contains a backslash or "../"
 * (validRelPath) fails the whole extraction. `flux push artifact` itself
 * skips symlinks too. Names are checked as the tar writes them:
 * directories end in '/', so a directory called "x.." is refused as well. */
#include "bundle_internal.h"
#include "error_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct check_ctx {
	oci_bundle_issue_fn cb;
	void *ctx;
	size_t n;
} check_ctx;

static int visit(void *vctx, const oci__walk_item *it)
{
	check_ctx *c = vctx;
	const char *why = NULL;
	size_t len = strlen(it->rel);
	int dotdot = strstr(it->rel, "../") != NULL ||
		     (it->type == 'd' && len >= 2 && !strcmp(it->rel + len - 2, ".."));
	if (strchr(it->rel, '\\'))
		why = "has a backslash in its name: Flux refuses the whole artifact";
	else if (dotdot)
		why = "has '../' in its name as packed (directories end in '/'): Flux refuses the whole artifact";
	else if (it->type == 'l')
		why = "is a symlink: Flux's source-controller drops symlinks when it extracts";
	if (why) {
		c->n++;
		if (c->cb)
			c->cb(c->ctx, it->rel, why);
	}
	return 0;
}

int oci_bundle_flux_check(size_t *count, const char *path, const oci_pack_opts *opts,
			  oci_bundle_issue_fn cb, void *ctx)
{
	check_ctx c = { .cb = cb, .ctx = ctx };
	*count = 0;
	int rc = oci__walk(path, opts, visit, &c);
	*count = c.n;
	return rc;
}
