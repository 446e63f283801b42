/* The operations (push, pull, diff, tag, copy) through the public C API,
 * on oci-layout targets: what a C program linking liboci would do. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/oci.h"
#include "test.h"

static char root[64];

static void write_file(const char *rel, const char *text, unsigned mode)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
	chmod(p, mode);
}

static oci_target *open_ref(const char *fmt, ...)
{
	char s[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s, sizeof s, fmt, ap);
	va_end(ap);
	oci_ref *r = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, s), 0);
	CHECK_EQ_INT(oci_target_open(&t, r, NULL), 0);
	oci_ref_free(r);
	return t;
}

struct changes {
	char text[512];
};

static void on_change(void *ctx, char change, const char *path)
{
	struct changes *c = ctx;
	size_t n = strlen(c->text);
	snprintf(c->text + n, sizeof c->text - n, "%c %s;", change, path);
}

static int refuse_all(void *ctx, oci_target *t, const char *digest)
{
	(*(int *)ctx)++;
	char why[128];
	snprintf(why, sizeof why, "test verifier refuses %s", digest);
	return oci_error_set_str(OCI_EVERIFY, why);
}

static void test_push_pull_diff(void)
{
	char p[256];
	snprintf(p, sizeof p, "%s/src", root);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/src/apps", root);
	mkdir(p, 0755);
	write_file("src/apps/web.yaml", "kind: Deployment\n", 0644);
	write_file("src/run.sh", "#!/bin/sh\n", 0755);

	oci_target *t = open_ref("oci-layout:%s/store:v1,prod", root);
	oci_push_opts opts; oci_push_opts_init(&opts);
	opts.created = "2024-01-01T00:00:00Z";
	opts.source = "https://git.example/x";
	oci_push_result pushed;
	snprintf(p, sizeof p, "%s/src", root);
	CHECK_EQ_INT(oci_push(&pushed, t, p, &opts), 0);
	CHECK_EQ_INT(pushed.layer_uploaded, 1);
	CHECK(pushed.layer.entries >= 3);
	/* The same tree again: same digest, nothing uploaded. */
	oci_push_result again;
	CHECK_EQ_INT(oci_push(&again, t, p, &opts), 0);
	CHECK_STR(again.digest, pushed.digest);
	CHECK_EQ_INT(again.layer_uploaded, 0);

	char digest[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_resolve_ref(digest, NULL, t), 0);
	CHECK_STR(digest, pushed.digest);

	/* pull, then the files are there with their modes */
	oci_pull_opts popts; oci_pull_opts_init(&popts);
	oci_pull_result pulled;
	char dest[256];
	snprintf(dest, sizeof dest, "%s/out", root);
	CHECK_EQ_INT(oci_pull(&pulled, t, dest, &popts), 0);
	CHECK_STR(pulled.digest, pushed.digest);
	CHECK(pulled.manifest != NULL);
	CHECK_STR(oci_kvlist_get(&pulled.manifest->annotations, "org.opencontainers.image.source"), "https://git.example/x");
	oci_pull_result_dispose(&pulled);
	struct stat st;
	snprintf(p, sizeof p, "%s/out/run.sh", root);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0755);
	snprintf(p, sizeof p, "%s/out/apps/web.yaml", root);
	CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0644);

	/* A refusing verifier: nothing is fetched or written. */
	int calls = 0;
	popts.verify = refuse_all;
	popts.verify_ctx = &calls;
	snprintf(dest, sizeof dest, "%s/refused", root);
	CHECK_EQ_INT(oci_pull(&pulled, t, dest, &popts), OCI_EVERIFY);
	CHECK_ERR_CONTAINS("test verifier refuses");
	CHECK_EQ_INT(calls, 1);
	CHECK(stat(dest, &st) < 0);

	/* diff: same, then one change of each kind */
	oci_pack_opts pack; oci_pack_opts_init(&pack);
	int differs = -1;
	struct changes ch = { "" };
	snprintf(p, sizeof p, "%s/src", root);
	CHECK_EQ_INT(oci_diff(&differs, t, p, &pack, on_change, &ch), 0);
	CHECK_EQ_INT(differs, 0);
	write_file("src/apps/web.yaml", "kind: Deployment\nspec: {}\n", 0644);
	write_file("src/new.yaml", "x: 1\n", 0644);
	char rm[256];
	snprintf(rm, sizeof rm, "%s/src/run.sh", root);
	unlink(rm);
	CHECK_EQ_INT(oci_diff(&differs, t, p, &pack, on_change, &ch), 0);
	CHECK_EQ_INT(differs, 1);
	CHECK_STR(ch.text, "M apps/web.yaml;+ new.yaml;- run.sh;");

	/* tag and copy */
	oci_strlist tags = OCI_STRLIST_INIT;
	oci_strlist_push(&tags, "stable");
	CHECK_EQ_INT(oci_tag_add(digest, t, &tags), 0);
	CHECK_STR(digest, pushed.digest);
	oci_strlist_dispose(&tags);
	oci_target *dst = open_ref("oci-layout:%s/copy:release", root);
	char copied[OCI_DIGEST_SIZE];
	/* asking for signatures of an unsigned artifact: refused, nothing written */
	CHECK_EQ_INT(oci_copy(copied, t, dst, OCI_COPY_SIGNATURES), OCI_ENOTFOUND);
	CHECK(strstr(oci_error_last()->message, "has no signatures to copy") != NULL);
	CHECK_EQ_INT(oci_target_resolve(copied, NULL, NULL, dst, "release"), OCI_ENOTFOUND);
	CHECK_EQ_INT(oci_copy(copied, t, dst, OCI_COPY_SIGNATURES | OCI_COPY_ALLOW_UNSIGNED), 0);
	CHECK_STR(copied, pushed.digest);
	CHECK_EQ_INT(oci_target_resolve(copied, NULL, NULL, dst, "release"), 0);
	CHECK_STR(copied, pushed.digest);
	oci_target_free(dst);
	oci_target_free(t);

	/* Errors name what failed. */
	t = open_ref("oci-layout:%s/store:nosuch", root);
	CHECK_EQ_INT(oci_pull(&pulled, t, dest, NULL), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("tag 'nosuch' not found");
	snprintf(p, sizeof p, "%s/missing", root);
	CHECK(oci_push(&pushed, t, p, NULL) < 0);
	CHECK_ERR_CONTAINS("missing");
	oci_target_free(t);
}

int main(void)
{
	oci_init();
	snprintf(root, sizeof root, "/tmp/oci-ops-test-XXXXXX");
	if (!mkdtemp(root))
		return 1;
	RUN(test_push_pull_diff);
	CHECK_EQ_INT(oci_rmtree(root), 0);
	TEST_END();
}
