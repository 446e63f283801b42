/* The oci-layout target through the public target API. */
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "oci/oci.h"
#include "test.h"

static char dir[64];

struct src {
	const char *p;
	size_t len, off;
};

static ssize_t src_read(void *ctx, void *buf, size_t len)
{
	struct src *s = ctx;
	size_t n = s->len - s->off < len ? s->len - s->off : len;
	memcpy(buf, s->p + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static int sink(void *ctx, const void *buf, size_t len)
{
	return oci_buf_append(ctx, buf, len);
}

static oci_target *open_layout(const char *suffix)
{
	char s[128];
	snprintf(s, sizeof s, "oci-layout:%s%s", dir, suffix);
	oci_ref *r = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, s), 0);
	CHECK_EQ_INT(oci_target_open(&t, r, NULL), 0);
	oci_ref_free(r);
	return t;
}

static int count_tmp_files(void)
{
	char p[128];
	snprintf(p, sizeof p, "%s/blobs/sha256", dir);
	DIR *d = opendir(p);
	int n = 0;
	struct dirent *e;
	while (d && (e = readdir(d)))
		n += strncmp(e->d_name, ".tmp", 4) == 0;
	if (d)
		closedir(d);
	return n;
}

static void test_blobs(void)
{
	oci_target *t = open_layout(":v1");
	CHECK_STR(oci_target_kind(t), "oci-layout");
	const char *data = "hello layout";
	char d[OCI_DIGEST_SIZE];
	oci_digest_buf(d, data, strlen(data));
	CHECK_EQ_INT(oci_target_blob_exists(t, d, NULL), 0);
	struct src s = { data, strlen(data), 0 };
	CHECK_EQ_INT(oci_target_blob_put(t, d, (int64_t)strlen(data), src_read, &s), 0);
	int64_t size = 0;
	CHECK_EQ_INT(oci_target_blob_exists(t, d, &size), 1);
	CHECK_EQ_INT(size, (long long)strlen(data));
	oci_buf b = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_target_blob_get(t, d, (int64_t)strlen(data), sink, &b), 0);
	CHECK_STR(b.data, data);
	oci_buf_dispose(&b);

	/* A source whose bytes don't match the digest: refused, nothing kept. */
	char other[OCI_DIGEST_SIZE];
	oci_digest_buf(other, "something else", 14);
	struct src s2 = { data, strlen(data), 0 };
	CHECK_EQ_INT(oci_target_blob_put(t, other, (int64_t)strlen(data), src_read, &s2), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("does not match its digest");
	CHECK_EQ_INT(oci_target_blob_exists(t, other, NULL), 0);
	CHECK_EQ_INT(count_tmp_files(), 0);
	/* Wrong size */
	struct src s3 = { data, strlen(data), 0 };
	CHECK_EQ_INT(oci_target_blob_put(t, d, 3, src_read, &s3), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("larger than its descriptor's size");
	/* Missing blob */
	CHECK_EQ_INT(oci_target_blob_get(t, other, -1, sink, &b), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("not found");
	oci_buf_dispose(&b);
	/* Invalid digest never reaches the file system. */
	CHECK_EQ_INT(oci_target_blob_exists(t, "sha256:../../etc/passwd", NULL), OCI_EINVALID);
	oci_target_free(t);
}

static void test_manifests_and_tags(void)
{
	oci_target *t = open_layout("");
	const char *m1 = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			 "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" OCI_EMPTY_DIGEST
			 "\",\"size\":2},\"layers\":[]}";
	const char *m2 = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
			 "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" OCI_EMPTY_DIGEST
			 "\",\"size\":2},\"layers\":[],\"annotations\":{\"a\":\"b\"}}";
	char d1[OCI_DIGEST_SIZE], d2[OCI_DIGEST_SIZE], got[OCI_DIGEST_SIZE];
	oci_digest_buf(d1, m1, strlen(m1));
	oci_digest_buf(d2, m2, strlen(m2));
	CHECK_EQ_INT(oci_target_manifest_put(t, "v1", OCI_MT_MANIFEST, m1, strlen(m1)), 0);
	char *mt = NULL;
	int64_t size = 0;
	CHECK_EQ_INT(oci_target_resolve(got, &mt, &size, t, "v1"), 0);
	CHECK_STR(got, d1);
	CHECK_STR(mt, OCI_MT_MANIFEST);
	CHECK_EQ_INT(size, (long long)strlen(m1));
	free(mt);
	oci_buf b = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_target_manifest_get(&b, NULL, got, t, d1), 0);
	CHECK_STR(b.data, m1);
	oci_buf_dispose(&b);
	/* Re-tag: v1 moves to m2, one entry. */
	CHECK_EQ_INT(oci_target_manifest_put(t, "v1", OCI_MT_MANIFEST, m2, strlen(m2)), 0);
	CHECK_EQ_INT(oci_target_resolve(got, NULL, NULL, t, "v1"), 0);
	CHECK_STR(got, d2);
	CHECK_EQ_INT(oci_target_tag(t, d1, "old"), 0);
	oci_strlist tags = OCI_STRLIST_INIT;
	CHECK_EQ_INT(oci_target_tags(&tags, t), 0);
	CHECK_EQ_INT(tags.n, 2);
	oci_strlist_dispose(&tags);
	CHECK_EQ_INT(oci_target_resolve(got, NULL, NULL, t, "nope"), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("tag 'nope' not found");
	CHECK_EQ_INT(oci_target_tag(t, d1, "bad tag"), OCI_EINVALID);
	oci_target_free(t);
}

/* Pushes that create a new layout at the same time: the layout's creation
 * (oci-layout, an empty index.json) and each tag are read-modify-writes of
 * index.json; no writer may replace the index another one just tagged.
 * Three writers per round, started together, for up to 200 rounds or 30 s. */
static void test_concurrent_creation(void)
{
	int lost = 0, rounds = 0;
	time_t until = time(NULL) + 30;
	for (; rounds < 200 && time(NULL) < until; rounds++) {
		char ref[160];
		int gate[2];
		if (pipe(gate) != 0)
			exit(1);
		pid_t kids[3];
		for (int k = 0; k < 3; k++) {
			kids[k] = fork();
			if (kids[k] == 0) {
				char c;
				close(gate[1]);
				if (read(gate[0], &c, 1) < 0)
					_exit(3);
				snprintf(ref, sizeof ref, "oci-layout:%s/race%d", dir, rounds);
				oci_ref *r = NULL;
				oci_target *t = NULL;
				if (oci_ref_parse(&r, ref) < 0 || oci_target_open(&t, r, NULL) < 0)
					_exit(2);
				char blob[32], man[64], d[OCI_DIGEST_SIZE], tag[8];
				snprintf(blob, sizeof blob, "blob %d", k);
				snprintf(man, sizeof man, "{\"schemaVersion\":2,\"k\":%d}", k);
				snprintf(tag, sizeof tag, "t%d", k);
				oci_digest_buf(d, blob, strlen(blob));
				struct src s = { blob, strlen(blob), 0 };
				int rc = oci_target_blob_put(t, d, (int64_t)strlen(blob), src_read, &s);
				if (rc == 0)
					rc = oci_target_manifest_put(t, tag, OCI_MT_MANIFEST, man, strlen(man));
				oci_target_free(t);
				oci_ref_free(r);
				_exit(rc == 0 ? 0 : 2);
			}
		}
		close(gate[0]);
		close(gate[1]);
		int failed = 0;
		for (int k = 0; k < 3; k++) {
			int st = 0;
			waitpid(kids[k], &st, 0);
			failed += !WIFEXITED(st) || WEXITSTATUS(st) != 0;
		}
		CHECK_EQ_INT(failed, 0);
		snprintf(ref, sizeof ref, "oci-layout:%s/race%d", dir, rounds);
		oci_ref *r = NULL;
		oci_target *t = NULL;
		oci_strlist tags = OCI_STRLIST_INIT;
		CHECK_EQ_INT(oci_ref_parse(&r, ref), 0);
		CHECK_EQ_INT(oci_target_open(&t, r, NULL), 0);
		CHECK_EQ_INT(oci_target_tags(&tags, t), 0);
		lost += tags.n != 3;
		oci_strlist_dispose(&tags);
		oci_target_free(t);
		oci_ref_free(r);
	}
	fprintf(stderr, "   %d rounds, %d lost a tag\n", rounds, lost);
	CHECK(rounds > 0);
	CHECK_EQ_INT(lost, 0);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/oci-layout-test-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_blobs);
	RUN(test_manifests_and_tags);
	RUN(test_concurrent_creation);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		return 1;
	TEST_END();
}
