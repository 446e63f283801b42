/* ORAS's single-file layer: which layers are archives (libarchive's
 * judgement, a damaged archive included), the one file written under its
 * title with modes, limits, index and reuse, titles that are paths
 * refused with nothing written, and which layers of a manifest are single
 * files (oci_artifact_single_file; ORAS's several files refused). */
#include <sys/stat.h>
#include <zlib.h>

#include "tree_util.h"
#include "test.h"

static char *root;

static const char *write_blob(const char *name, const void *data, size_t len)
{
	const char *p = P("%s/%s", root, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
		exit(2);
	close(fd);
	return p;
}

static int is_archive(const char *path)
{
	int a = -1;
	CHECK_EQ_INT(oci_extract_is_archive(&a, path), 0);
	return a;
}

/* What pull does with a downloaded layer (see oci_artifact_single_file). */
static int layer_file(oci_extract_stats *st, const char *blob, const char *title, const char *dest,
		      const oci_extract_opts *o)
{
	int a = 1;
	if (title && oci_extract_is_archive(&a, blob) < 0)
		return -1;
	return title && !a ? oci_extract_single_file(st, blob, title, dest, o) : oci_extract_file(st, blob, dest, o);
}

static void gzip_buf(oci_buf *out, const void *data, size_t len)
{
	z_stream z;
	memset(&z, 0, sizeof z);
	unsigned char tmp[4096];
	deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	z.next_in = (unsigned char *)data;
	z.avail_in = (uInt)len;
	int r;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof tmp;
		r = deflate(&z, Z_FINISH);
		oci_buf_append(out, tmp, sizeof tmp - z.avail_out);
	} while (r != Z_STREAM_END);
	deflateEnd(&z);
}

static void test_detection(void)
{
	const char *text = "apiVersion: v1\nkind: ConfigMap\n";
	CHECK_EQ_INT(is_archive(write_blob("text", text, strlen(text))), 0);
	CHECK_EQ_INT(is_archive(write_blob("empty", "", 0)), 0);
	char big[3000];
	memset(big, 'y', sizeof big);
	CHECK_EQ_INT(is_archive(write_blob("big", big, sizeof big)), 0);
	oci_buf gz = OCI_BUF_INIT;
	gzip_buf(&gz, text, strlen(text));
	/* A gzip file that holds no tar (notes.yaml.gz pushed by ORAS). */
	CHECK_EQ_INT(is_archive(write_blob("text.gz", gz.data, gz.len)), 0);
	/* A truncated gzip is a damaged archive, not a file. */
	CHECK_EQ_INT(is_archive(write_blob("trunc.gz", gz.data, 12)), 1);
	oci_buf_dispose(&gz);

	tar_maker m;
	maker_open(&m, 0);
	maker_add(&m, 'f', "a.yaml", "a: 1\n", 0644);
	maker_close(&m);
	CHECK_EQ_INT(is_archive(write_blob("a.tar", m.out.data, m.out.len)), 1);
	/* A tar cut after its first header is still an archive (corrupt). */
	CHECK_EQ_INT(is_archive(write_blob("cut.tar", m.out.data, 600)), 1);
	oci_buf_dispose(&m.out);
	maker_open(&m, 1);
	maker_add(&m, 'f', "a.yaml", "a: 1\n", 0644);
	maker_close(&m);
	CHECK_EQ_INT(is_archive(write_blob("a.tgz", m.out.data, m.out.len)), 1);
	oci_buf_dispose(&m.out);

	int a = -1;
	CHECK(oci_extract_is_archive(&a, P("%s/missing", root)) < 0);
	CHECK_ERR_CONTAINS("missing");
}

static void test_layer_file(void)
{
	const char *text = "hello from oras\n";
	const char *blob = write_blob("blob", text, strlen(text));
	const char *dest = P("%s/d1", root);
	mkdir(dest, 0755);
	oci_extract_stats st;
	CHECK_EQ_INT(layer_file(&st, blob, "hello.txt", dest, NULL), 0);
	char *c = slurp(P("%s/hello.txt", dest));
	CHECK_STR(c, text);
	free(c);
	struct stat sb;
	CHECK_EQ_INT(stat(P("%s/hello.txt", dest), &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 07777, 0644);
	CHECK_EQ_INT(dir_count(dest), 1);
	CHECK_EQ_INT(st.entries, 1);
	CHECK_EQ_INT(st.files_written, 1);
	CHECK_EQ_INT(st.bytes, (long long)strlen(text));

	/* Without a title the same bytes are a broken archive. */
	const char *d2 = P("%s/d2", root);
	mkdir(d2, 0755);
	CHECK(layer_file(&st, blob, NULL, d2, NULL) < 0);
	CHECK_ERR_CONTAINS("Unrecognized archive format");

	/* A titled archive is extracted, not saved (ocisync's own layer). */
	tar_maker m;
	maker_open(&m, 1);
	maker_add(&m, 'f', "base/a.yaml", "a: 1\n", 0644);
	maker_close(&m);
	const char *tgz = write_blob("layer.tgz", m.out.data, m.out.len);
	oci_buf_dispose(&m.out);
	const char *d3 = P("%s/d3", root);
	mkdir(d3, 0755);
	CHECK_EQ_INT(layer_file(&st, tgz, "manifests.tar.gz", d3, NULL), 0);
	CHECK(exists(P("%s/base/a.yaml", d3)));
	CHECK(!exists(P("%s/manifests.tar.gz", d3)));
}

static void expect_title_refused(const char *title, const char *why)
{
	const char *blob = write_blob("blob", "x\n", 2);
	const char *dest = P("%s/refused", root);
	mkdir(dest, 0755);
	oci_extract_stats st;
	CHECK_EQ_INT(layer_file(&st, blob, title, dest, NULL), OCI_EUNSAFE);
	CHECK_ERR_CONTAINS(why);
	CHECK_ERR_CONTAINS("refused");
	CHECK_EQ_INT(dir_count(dest), 0);
	rmdir(dest);
}

static void test_titles_refused(void)
{
	expect_title_refused("/etc/passwd", "is an absolute path");
	expect_title_refused("..", "has a '..' component");
	expect_title_refused("../escape.txt", "has a '..' component");
	expect_title_refused("a/../../b", "has a '..' component");
	expect_title_refused("sub/dir.txt", "is a path, not a file name");
	expect_title_refused(".", "is not a file name");
	expect_title_refused("", "is empty");
	expect_title_refused("evil\nname", "has a control character");
	CHECK(!exists(P("%s/escape.txt", root)));
}

static void test_limits_subpath_index_reuse(void)
{
	const char *text = "0123456789";
	const char *blob = write_blob("blob", text, 10);
	oci_extract_stats st;
	oci_extract_opts o; oci_extract_opts_init(&o);
	o.max_size = 9;
	const char *d = P("%s/lim", root);
	mkdir(d, 0755);
	CHECK_EQ_INT(layer_file(&st, blob, "n.txt", d, &o), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("larger than 9 bytes");

	oci_extract_opts_init(&o);
	o.subpath = "envs/prod";
	const char *d2 = P("%s/sub", root);
	mkdir(d2, 0755);
	CHECK_EQ_INT(layer_file(&st, blob, "n.txt", d2, &o), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("path 'envs/prod' is not in the artifact: it holds the single file 'n.txt'");
	CHECK_EQ_INT(dir_count(d2), 0);
	o.subpath = "./";
	CHECK_EQ_INT(layer_file(&st, blob, "n.txt", d2, &o), 0);
	CHECK(exists(P("%s/n.txt", d2)));

	/* Sync: read-only file, an index, and the next identical revision
	 * links the same inode. */
	oci_extract_opts_init(&o);
	o.read_only = 1;
	const char *r1 = P("%s/r1", root), *i1 = P("%s/r1.index", root);
	mkdir(r1, 0755);
	o.index_out = i1;
	CHECK_EQ_INT(layer_file(&st, blob, "n.txt", r1, &o), 0);
	struct stat s1, s2;
	CHECK_EQ_INT(stat(P("%s/n.txt", r1), &s1), 0);
	CHECK_EQ_INT(s1.st_mode & 07777, 0444);
	char *idx = slurp(i1);
	CHECK_STR(idx, "84d89877f0d4041efb6bf91a16f0248f2fd573e6af05c19f96bedb9f882f7882 644 n.txt\n");
	free(idx);
	const char *r2 = P("%s/r2", root), *i2 = P("%s/r2.index", root);
	mkdir(r2, 0755);
	o.reuse_dir = r1;
	o.reuse_index = i1;
	o.index_out = i2;
	CHECK_EQ_INT(layer_file(&st, blob, "n.txt", r2, &o), 0);
	CHECK_EQ_INT(st.files_linked, 1);
	CHECK_EQ_INT(st.files_written, 0);
	CHECK_EQ_INT(stat(P("%s/n.txt", r2), &s2), 0);
	CHECK(s1.st_ino == s2.st_ino);
	CHECK_EQ_INT(dir_count(r2), 1);
	/* Changed content: written anew. */
	blob = write_blob("blob", "changed\n", 8);
	const char *r3 = P("%s/r3", root);
	mkdir(r3, 0755);
	o.index_out = NULL;
	CHECK_EQ_INT(layer_file(&st, blob, "n.txt", r3, &o), 0);
	CHECK_EQ_INT(st.files_written, 1);
	CHECK_EQ_INT(st.files_linked, 0);
}

static oci_manifest *manifest_with(const char *layers_json)
{
	char doc[2048];
	snprintf(doc, sizeof doc,
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":"
		 "\"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a\",\"size\":2},"
		 "\"layers\":[%s]}", layers_json);
	oci_manifest *m = NULL;
	CHECK_EQ_INT(oci_manifest_parse(&m, doc, strlen(doc), NULL), 0);
	return m;
}

#define LAYER(title) "{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":" \
	"\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0" title "}"
#define TITLE(t) ",\"annotations\":{\"org.opencontainers.image.title\":\"" t "\"}"

static void test_artifact_single_file(void)
{
	const char *text = write_blob("text", "hello\n", 6);
	tar_maker mk;
	maker_open(&mk, 1);
	maker_add(&mk, 'f', "a.yaml", "a: 1\n", 0644);
	maker_close(&mk);
	const char *tgz = write_blob("a.tgz", mk.out.data, mk.out.len);
	oci_buf_dispose(&mk.out);
	const char *title = "unset";
	int text_fd = open(text, O_RDONLY | O_CLOEXEC), tgz_fd = open(tgz, O_RDONLY | O_CLOEXEC);
	CHECK(text_fd >= 0 && tgz_fd >= 0);

	oci_manifest *m = manifest_with(LAYER(TITLE("hello.txt")));
	if (!m)
		return;
	CHECK_EQ_INT(oci_artifact_single_file(&title, m, &m->layers[0], text_fd), 0);
	CHECK_STR(title, "hello.txt");
	CHECK_EQ_INT(lseek(text_fd, 0, SEEK_CUR), 0); /* ready to be read again */
	/* A titled archive is extracted (ocisync's own layer). */
	CHECK_EQ_INT(oci_artifact_single_file(&title, m, &m->layers[0], tgz_fd), 0);
	CHECK(title == NULL);
	oci_manifest_free(m);

	/* No title: always an archive (a broken one here). */
	m = manifest_with(LAYER(""));
	CHECK_EQ_INT(oci_artifact_single_file(&title, m, &m->layers[0], text_fd), 0);
	CHECK(title == NULL);
	oci_manifest_free(m);

	/* ORAS's several files: writing one would drop the others. */
	m = manifest_with(LAYER(TITLE("a.txt")) "," LAYER(TITLE("b.txt")));
	CHECK_EQ_INT(oci_artifact_single_file(&title, m, &m->layers[0], text_fd), OCI_EUNSUPPORTED);
	CHECK_ERR_CONTAINS("the artifact holds several files, one layer each ('a.txt', 'b.txt', ...)");
	CHECK_ERR_CONTAINS("push them as one folder");
	/* ...but an archive beside a titled file is read as before. */
	CHECK_EQ_INT(oci_artifact_single_file(&title, m, &m->layers[0], tgz_fd), 0);
	CHECK(title == NULL);
	oci_manifest_free(m);
	close(text_fd);
	close(tgz_fd);
}

int main(void)
{
	root = make_tmpdir("extract-single");
	RUN(test_detection);
	RUN(test_layer_file);
	RUN(test_titles_refused);
	RUN(test_limits_subpath_index_reuse);
	RUN(test_artifact_single_file);
	oci_rmtree(root);
	free(root);
	TEST_END();
}
