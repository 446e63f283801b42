/* oci_lint_path: lints a directory without packing it -- the packer's
 * walk (same ignore rules and symlink policy), each YAML/JSON file fed
 * to the streaming linter in chunks as the packer would. */
#include "lint_queue.h"
#include "bundle_internal.h"
#include "error_internal.h"
#include "stream.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_CHUNK (256 * 1024)

typedef struct path_ctx {
	oci_lint *l;
	char *buf;
} path_ctx;

static int path_visit(void *ud, const oci__walk_item *it)
{
	path_ctx *c = ud;
	if (it->type != 'f' || !lint_is_lintable(it->rel))
		return 0;
	int fd = openat(it->dirfd, it->name, O_RDONLY | O_CLOEXEC | (it->follow ? 0 : O_NOFOLLOW));
	if (fd < 0)
		return oci_error_errno("opening %s", it->display);
	int rc = oci_lint_feed(c->l, it->rel, OCI_PACK_FILE_BEGIN, NULL, 0);
	while (rc == 0) {
		ssize_t n = oci_fd_read(fd, c->buf, PATH_CHUNK, it->display);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if (n == 0) {
			rc = oci_lint_feed(c->l, it->rel, OCI_PACK_FILE_END, NULL, 0);
			break;
		}
		rc = oci_lint_feed(c->l, it->rel, OCI_PACK_FILE_DATA, c->buf, (size_t)n);
	}
	close(fd);
	return rc;
}

int oci_lint_path(oci_lint_report *out, const char *path, const oci_pack_opts *pack_opts,
		  const oci_lint_policy *policy)
{
	memset(out, 0, sizeof *out);
	path_ctx c = { NULL, malloc(PATH_CHUNK) };
	if (!c.buf)
		return OCI_ENOMEM_SET();
	int rc = oci_lint_new(&c.l, policy);
	if (rc == 0)
		rc = oci__walk(path, pack_opts, path_visit, &c);
	if (rc == 0)
		rc = oci_lint_finish(out, c.l);
	oci_lint_free(c.l);
	free(c.buf);
	return rc;
}
