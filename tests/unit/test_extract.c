/* Safe extraction: round trips, every hostile archive refused with its own
 * message and nothing written outside the destination, subpaths, reuse of
 * the previous revision through hard links, read-only trees. Hostile
 * archives are built here with libarchive's writer. */
#include <sys/stat.h>
#include <zlib.h>

#include "error_internal.h"
#include "extract_internal.h"
#include "tree_util.h"
#include "test.h"

static char *sandbox;     /* holds only "dest" */
static char *dest;
static char pwned[256];   /* an absolute path outside everything */

static void sandbox_new(void)
{
	sandbox = make_tmpdir("extract");
	if (asprintf(&dest, "%s/dest", sandbox) < 0 || mkdir(dest, 0755) < 0)
		exit(2);
}

/* Nothing but dest in the sandbox, nothing at the absolute target. */
static void sandbox_check_and_free(void)
{
	CHECK_EQ_INT(dir_count(sandbox), 1);
	CHECK(exists(dest));
	CHECK(!exists(pwned));
	CHECK(!exists("/tmp/pwned"));
	oci_rmtree(sandbox);
	free(sandbox);
	free(dest);
	sandbox = dest = NULL;
}

/* Extracts the archive m built and expects code with message msg. */
static void expect_refused(tar_maker *m, const oci_extract_opts *o, int code, const char *msg)
{
	sandbox_new();
	oci_extract_stats st;
	int rc = extract_mem(&st, &m->out, dest, o);
	CHECK_EQ_INT(rc, code);
	CHECK_ERR_CONTAINS(msg);
	sandbox_check_and_free();
	oci_buf_dispose(&m->out);
}

static void test_roundtrip(void)
{
	char *src = make_tmpdir("extract-src");
	put(src, "apps/web/deployment.yaml", "kind: Deployment\n", 0644);
	put(src, "apps/web/run.sh", "#!/bin/sh\n", 0700);
	put(src, "top.yaml", "top: 1\n", 0600);
	mkdir_p(P("%s/empty/dir", src));
	CHECK_EQ_INT(symlink("web/deployment.yaml", P("%s/apps/link.yaml", src)), 0);
	oci_buf_sink s = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s, &r, src, NULL), 0);

	sandbox_new();
	oci_extract_stats st;
	CHECK_EQ_INT(extract_mem(&st, &s.buf, dest, NULL), 0);
	char *c = slurp(P("%s/apps/web/deployment.yaml", dest));
	CHECK_STR(c, "kind: Deployment\n");
	free(c);
	struct stat sb;
	CHECK_EQ_INT(stat(P("%s/apps/web/run.sh", dest), &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 07777, 0755);
	CHECK_EQ_INT(stat(P("%s/top.yaml", dest), &sb), 0);
	CHECK_EQ_INT(sb.st_mode & 07777, 0644);
	CHECK_EQ_INT(stat(P("%s/empty/dir", dest), &sb), 0);
	CHECK(S_ISDIR(sb.st_mode));
	CHECK_EQ_INT(sb.st_mode & 07777, 0755);
	char target[256] = "";
	CHECK(readlink(P("%s/apps/link.yaml", dest), target, sizeof target - 1) > 0);
	CHECK_STR(target, "web/deployment.yaml");
	CHECK_EQ_INT(st.files_written, 3);
	CHECK_EQ_INT(st.entries, 8);
	CHECK_EQ_INT(st.bytes, 17 + 10 + 7);

	/* packing the extracted tree gives the same layer */
	oci_buf_sink s2 = { 0 };
	oci_pack_result r2;
	CHECK_EQ_INT(pack_mem(&s2, &r2, dest, NULL), 0);
	CHECK_STR(r2.digest, r.digest);

	/* dest must be empty */
	CHECK_EQ_INT(extract_mem(&st, &s.buf, dest, NULL), OCI_EEXISTS);
	CHECK_ERR_CONTAINS("is not empty");
	sandbox_check_and_free();

	/* a plain (uncompressed) tar is accepted too */
	tar_maker m;
	maker_open(&m, 0);
	maker_add(&m, 'f', "./plain.yaml", "p\n", 0644);
	maker_close(&m);
	sandbox_new();
	CHECK_EQ_INT(extract_mem(&st, &m.out, dest, NULL), 0);
	CHECK(exists(P("%s/plain.yaml", dest)));
	sandbox_check_and_free();
	oci_buf_dispose(&m.out);

	oci_buf_dispose(&s.buf);
	oci_buf_dispose(&s2.buf);
	oci_rmtree(src);
	free(src);
}

static void test_dotdot_and_absolute(void)
{
	tar_maker m;
	maker_open(&m, 1);
	maker_add(&m, 'f', "ok.yaml", "ok\n", 0644);
	maker_add(&m, 'f', "../pwned", "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry '../pwned' has a '..' component; refused");

	maker_open(&m, 1);
	maker_add(&m, 'f', "a/b/../../../pwned", "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'a/b/../../../pwned' has a '..' component");

	maker_open(&m, 1);
	maker_add(&m, 'f', pwned, "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, P("entry '%s' has an absolute path; refused", pwned));
}

static void test_symlink_escapes(void)
{
	tar_maker m;
	/* a symlink pointing out, then a file written through it */
	maker_open(&m, 1);
	maker_add(&m, 'l', "evil", "../../../../../../../../tmp", 0777);
	maker_add(&m, 'f', "evil/pwned", "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "symlink 'evil' -> '../../../../../../../../tmp' points outside of the destination; refused");

	maker_open(&m, 1);
	maker_add(&m, 'l', "abs", "/tmp", 0777);
	maker_add(&m, 'f', "abs/pwned", "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "symlink 'abs' -> '/tmp' points to an absolute path of the destination; refused");

	/* even a symlink that stays inside cannot be gone through */
	maker_open(&m, 1);
	maker_add(&m, 'd', "real", NULL, 0755);
	maker_add(&m, 'l', "alias", "real", 0777);
	maker_add(&m, 'f', "alias/x.yaml", "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'alias/x.yaml' goes through the symlink 'alias'; refused");

	/* the two-step trick: "r" -> "." then "e" -> "r/.." */
	maker_open(&m, 1);
	maker_add(&m, 'l', "r", ".", 0777);
	maker_add(&m, 'l', "e", "r/..", 0777);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "symlink 'e' -> 'r/..' has '..' after a name");

	/* a symlink in a subdirectory may go up to the root, not beyond */
	maker_open(&m, 1);
	maker_add(&m, 'l', "a/b/up", "../../x.yaml", 0777);
	maker_add(&m, 'l', "a/b/out", "../../../x.yaml", 0777);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "symlink 'a/b/out' -> '../../../x.yaml' points outside");

	/* a file replacing a symlink (duplicate) is refused, not followed */
	maker_open(&m, 1);
	maker_add(&m, 'l', "same", "x.yaml", 0777);
	maker_add(&m, 'f', "same", "data\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'same' appears twice in the archive; refused");

	/* one entry creating thousands of directories */
	static char deep[20001];
	for (int i = 0; i < 10000; i++)
		memcpy(deep + 2 * i, "a/", 2);
	deep[20000] = '\0';
	deep[19999] = 'f';
	maker_open(&m, 1);
	maker_add(&m, 'f', deep, "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "has a path longer than 4096 bytes; refused");

	maker_open(&m, 1);
	maker_add(&m, 'f', "dup.yaml", "1\n", 0644);
	maker_add(&m, 'f', "dup.yaml", "2\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'dup.yaml' appears twice in the archive; refused");

	maker_open(&m, 1);
	maker_add(&m, 'f', "f", "1\n", 0644);
	maker_add(&m, 'd', "f", NULL, 0755);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'f/' appears twice in the archive (a directory over another type)");
}

static void test_hardlinks(void)
{
	tar_maker m;
	maker_open(&m, 1);
	maker_add(&m, 'h', "passwd", "/etc/passwd", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "hard link 'passwd' points to '/etc/passwd', which has an absolute path; refused");

	maker_open(&m, 1);
	maker_add(&m, 'h', "passwd", "../../../../../../etc/passwd", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "hard link 'passwd' points to '../../../../../../etc/passwd', which has a '..' component");

	maker_open(&m, 1);
	maker_add(&m, 'h', "early", "later.yaml", 0644);
	maker_add(&m, 'f', "later.yaml", "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "hard link 'early' points to 'later.yaml', which is not an earlier regular file of the archive");

	maker_open(&m, 1);
	maker_add(&m, 'd', "dir", NULL, 0755);
	maker_add(&m, 'h', "dirlink", "dir", 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "hard link 'dirlink' points to 'dir', which is not an earlier regular file");

	/* to an earlier regular file inside: fine */
	maker_open(&m, 1);
	maker_add(&m, 'f', "a/orig.yaml", "same\n", 0644);
	maker_add(&m, 'h', "b/copy.yaml", "a/orig.yaml", 0644);
	maker_close(&m);
	sandbox_new();
	oci_extract_stats st;
	CHECK_EQ_INT(extract_mem(&st, &m.out, dest, NULL), 0);
	struct stat s1, s2;
	CHECK_EQ_INT(stat(P("%s/a/orig.yaml", dest), &s1), 0);
	CHECK_EQ_INT(stat(P("%s/b/copy.yaml", dest), &s2), 0);
	CHECK_EQ_INT(s1.st_ino, s2.st_ino);
	sandbox_check_and_free();
	oci_buf_dispose(&m.out);
}

static void test_special_files(void)
{
	tar_maker m;
	maker_open(&m, 1);
	maker_add(&m, 'c', "dev/null", NULL, 0666);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'dev/null' is a character device; devices, FIFOs and sockets are refused");

	maker_open(&m, 1);
	maker_add(&m, 'b', "dev/sda", NULL, 0660);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'dev/sda' is a block device");

	maker_open(&m, 1);
	maker_add(&m, 'p', "fifo", NULL, 0644);
	maker_close(&m);
	expect_refused(&m, NULL, OCI_EUNSAFE, "entry 'fifo' is a FIFO");

	/* setuid/setgid/sticky and odd modes are normalised */
	maker_open(&m, 1);
	maker_add(&m, 'f', "suid", "x\n", 04755);
	maker_add(&m, 'f', "weird", "x\n", 0602);
	maker_close(&m);
	sandbox_new();
	CHECK_EQ_INT(extract_mem(NULL, &m.out, dest, NULL), 0);
	struct stat sb;
	stat(P("%s/suid", dest), &sb);
	CHECK_EQ_INT(sb.st_mode & 07777, 0755);
	stat(P("%s/weird", dest), &sb);
	CHECK_EQ_INT(sb.st_mode & 07777, 0644);
	sandbox_check_and_free();
	oci_buf_dispose(&m.out);
}

static void test_limits(void)
{
	/* a gzip bomb: 50 MiB of zeros, a few KiB compressed */
	tar_maker m;
	maker_open(&m, 1);
	maker_add_zeros(&m, "bomb", 50LL << 20);
	maker_close(&m);
	CHECK(m.out.len < 200000);
	oci_extract_opts o; oci_extract_opts_init(&o);
	o.max_size = 1 << 20;
	sandbox_new();
	CHECK_EQ_INT(extract_mem(NULL, &m.out, dest, &o), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("the artifact holds more than 1048576 bytes of content (at entry 'bomb')");
	struct stat sb;
	CHECK(stat(P("%s/bomb", dest), &sb) < 0 || sb.st_size <= (1 << 20));
	sandbox_check_and_free();
	oci_buf_dispose(&m.out);

	/* many small files add up: counted as they are written */
	maker_open(&m, 1);
	for (int i = 0; i < 40; i++)
		maker_add_zeros(&m, P("f%02d", i), 100000);
	maker_close(&m);
	o.max_size = 1000000;
	expect_refused(&m, &o, OCI_ELIMIT, "the artifact holds more than 1000000 bytes of content (at entry 'f10')");

	/* 100,001 entries: empty files in 100 folders. Every entry counts,
	 * also those outside --path that are read but not written; extracting
	 * outside a subpath keeps this test from creating 100,000 files (the
	 * default-mode count is checked with a small limit below). */
	maker_open(&m, 1);
	for (int i = 0; i < 100001; i++)
		maker_add(&m, 'f', P("d%02d/f%05d", i / 1001, i), NULL, 0644);
	maker_close(&m);
	oci_extract_opts_init(&o);
	o.subpath = "elsewhere";
	expect_refused(&m, &o, OCI_ELIMIT, "the artifact has more than 100000 entries (files, directories, links)");
	/* what to do is the hint (the CLI names --max-entries); the message names no flag */
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_MAX_ENTRIES);
	CHECK(strstr(oci_error_last()->message, "--") == NULL);

	maker_open(&m, 1);
	for (int i = 0; i < 11; i++)
		maker_add(&m, 'f', P("f%02d", i), NULL, 0644);
	maker_close(&m);
	oci_extract_opts_init(&o);
	o.max_entries = 10;
	expect_refused(&m, &o, OCI_ELIMIT, "the artifact has more than 10 entries");

	/* metadata counts too: empty files, each with a 100 KB extended
	 * attribute (a pax header), are refused once the stream outweighs the
	 * limit, although their content fits */
	char *big = malloc(100000);
	memset(big, 'a', 100000);
	maker_open(&m, 1);
	for (int i = 0; i < 30; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, P("f%02d", i));
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 0);
		archive_entry_xattr_add_entry(e, "user.big", big, 100000);
		archive_write_header(m.a, e);
		archive_entry_free(e);
	}
	maker_close(&m);
	free(big);
	oci_extract_opts_init(&o);
	o.max_size = 1;
	sandbox_new();
	CHECK_EQ_INT(extract_mem(NULL, &m.out, dest, &o), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("the layer decompresses to more than ");
	CHECK_ERR_CONTAINS(" entries, a size limit of 1); refused");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_MAX_SIZE);
	CHECK(strstr(oci_error_last()->message, "--") == NULL);
	sandbox_check_and_free();
	oci_buf_dispose(&m.out);

	/* a layer declaring more than the size limit allows: refused before
	 * downloading, the hint says which limit (the CLI names --max-size) */
	CHECK_EQ_INT(oci__layer_size_check("sha256:ab", (int64_t)1 << 62, 1 << 20), OCI_ELIMIT);
	CHECK_ERR_CONTAINS("layer sha256:ab declares 4611686018427387904 bytes, more than a layer extracting to at most "
			   "1048576 bytes (the size limit) can be (17956864); refused before downloading it");
	CHECK_EQ_INT(oci_error_hint(NULL), OCI_HINT_MAX_SIZE);
	CHECK(strstr(oci_error_last()->message, "--") == NULL);
	CHECK_EQ_INT(oci__layer_size_check("sha256:ab", 17956864, 1 << 20), 0);
}

static void test_corrupt(void)
{
	char *src = make_tmpdir("extract-c");
	for (int i = 0; i < 50; i++) {
		char content[4000];
		for (int j = 0; j < 3999; j++)
			content[j] = (char)('a' + (i * 31 + j * 7 + j / 13) % 26);
		content[3999] = '\0';
		put(src, P("f%02d.yaml", i), content, 0644);
	}
	oci_buf_sink s = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s, &r, src, NULL), 0);

	/* truncated gzip */
	tar_maker m = { 0 };
	oci_buf_append(&m.out, s.buf.data, s.buf.len / 2);
	expect_refused(&m, NULL, OCI_EINVALID, "truncated gzip stream: it ends before its end marker");

	/* only the last byte missing (the trailer is checked even though
	 * the tar ended before it) */
	oci_buf_append(&m.out, s.buf.data, s.buf.len - 1);
	expect_refused(&m, NULL, OCI_EINVALID, "truncated gzip stream");

	/* corrupt deflate data */
	oci_buf_append(&m.out, s.buf.data, s.buf.len);
	for (size_t i = s.buf.len / 3; i < s.buf.len / 3 + 64; i++)
		m.out.data[i] ^= 0x5a;
	expect_refused(&m, NULL, OCI_EINVALID, "corrupt gzip stream");

	/* a wrong CRC-32 or length in the trailer */
	oci_buf_append(&m.out, s.buf.data, s.buf.len);
	m.out.data[s.buf.len - 6] ^= 1;
	expect_refused(&m, NULL, OCI_EINVALID, "corrupt gzip stream: incorrect data check");
	oci_buf_append(&m.out, s.buf.data, s.buf.len);
	m.out.data[s.buf.len - 2] ^= 1;
	expect_refused(&m, NULL, OCI_EINVALID, "corrupt gzip stream: incorrect length check");

	/* garbage after the gzip stream; trailing zeros are tolerated */
	oci_buf_append(&m.out, s.buf.data, s.buf.len);
	oci_buf_append(&m.out, "\0\0\0\0garbage", 11);
	expect_refused(&m, NULL, OCI_EINVALID, "unexpected data after the end of the compressed data");
	oci_buf_append(&m.out, s.buf.data, s.buf.len);
	oci_buf_append(&m.out, "\0\0\0\0\0\0\0\0", 8);
	sandbox_new();
	CHECK_EQ_INT(extract_mem(NULL, &m.out, dest, NULL), 0);
	sandbox_check_and_free();
	oci_buf_dispose(&m.out);

	/* not an archive at all */
	const char *junk = "this is not a tar archive, just some text that goes on for a while....\n";
	for (int i = 0; i < 20; i++)
		oci_buf_append(&m.out, junk, strlen(junk));
	expect_refused(&m, NULL, OCI_EINVALID, "reading the layer: corrupt or truncated archive");

	oci_buf_dispose(&s.buf);
	oci_rmtree(src);
	free(src);
}

/* gzip of data as one member (zlib), appended to out. */
static void gzip_member(oci_buf *out, const void *data, size_t len)
{
	z_stream zs = { 0 };
	unsigned char buf[65536];
	deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	int zr;
	do {
		zs.next_out = buf;
		zs.avail_out = sizeof buf;
		zr = deflate(&zs, Z_FINISH);
		oci_buf_append(out, buf, sizeof buf - zs.avail_out);
	} while (zr == Z_OK);
	deflateEnd(&zs);
}

/* A tar compressed as two concatenated gzip members (what pigz -i or
 * `cat a.gz b.gz` make) is one valid gzip stream. */
static void test_multi_member_gzip(void)
{
	tar_maker m;
	maker_open(&m, 0);
	for (int i = 0; i < 30; i++)
		maker_add(&m, 'f', P("m%02d.yaml", i), P("member test %d\n", i), 0644);
	maker_close(&m);
	oci_buf gz = OCI_BUF_INIT;
	gzip_member(&gz, m.out.data, m.out.len / 2);
	gzip_member(&gz, m.out.data + m.out.len / 2, m.out.len - m.out.len / 2);
	sandbox_new();
	oci_extract_stats st;
	CHECK_EQ_INT(extract_mem(&st, &gz, dest, NULL), 0);
	CHECK_EQ_INT(st.files_written, 30);
	char *c = slurp(P("%s/m29.yaml", dest));
	CHECK_STR(c, "member test 29\n");
	free(c);
	sandbox_check_and_free();
	oci_buf_dispose(&gz);
	oci_buf_dispose(&m.out);
}

/* A source failing midway (as a digest check would) keeps its error. */
static ssize_t failing_read(void *ctx, void *buf, size_t len)
{
	mem_src *m = ctx;
	if (m->off > m->len / 2)
		return oci_error_set(OCI_EDIGEST, "blob sha256:abc does not match its digest (test)");
	return mem_read(ctx, buf, len < 512 ? len : 512);
}

static void test_source_error(void)
{
	tar_maker m;
	maker_open(&m, 0);
	for (int i = 0; i < 20; i++)
		maker_add(&m, 'f', P("f%02d", i), "some content\n", 0644);
	maker_close(&m);
	sandbox_new();
	mem_src src = { (unsigned char *)m.out.data, m.out.len, 0 };
	CHECK_EQ_INT(oci_extract(NULL, failing_read, &src, dest, NULL), OCI_EDIGEST);
	CHECK_ERR_CONTAINS("does not match its digest (test)");
	sandbox_check_and_free();
	oci_buf_dispose(&m.out);
}

static void test_subpath(void)
{
	tar_maker m;
	maker_open(&m, 1);
	maker_add(&m, 'd', "envs/", NULL, 0755);
	maker_add(&m, 'd', "envs/prod/", NULL, 0755);
	maker_add(&m, 'f', "envs/prod/app.yaml", "prod\n", 0644);
	maker_add(&m, 'l', "envs/prod/base.yaml", "shared/base.yaml", 0777);
	maker_add(&m, 'f', "envs/prod/shared/base.yaml", "base\n", 0644);
	maker_add(&m, 'f', "envs/dev/app.yaml", "dev\n", 0644);
	maker_add(&m, 'f', "envs/production.yaml", "not prod\n", 0644);
	maker_close(&m);
	oci_extract_opts o; oci_extract_opts_init(&o);
	o.subpath = "./envs/prod/";
	sandbox_new();
	oci_extract_stats st;
	CHECK_EQ_INT(extract_mem(&st, &m.out, dest, &o), 0);
	char *c = slurp(P("%s/app.yaml", dest));
	CHECK_STR(c, "prod\n");
	free(c);
	c = slurp(P("%s/base.yaml", dest));
	CHECK_STR(c, "base\n");
	free(c);
	CHECK_EQ_INT(dir_count(dest), 3); /* app.yaml base.yaml shared */
	CHECK_EQ_INT(st.entries, 7);
	sandbox_check_and_free();

	o.subpath = "envs/qa";
	expect_refused(&m, &o, OCI_ENOTFOUND, "path 'envs/qa' is not in the artifact");
	maker_open(&m, 1);
	maker_add(&m, 'f', "envs/prod.yaml", "x\n", 0644);
	maker_close(&m);
	o.subpath = "envs/prod.yaml";
	expect_refused(&m, &o, OCI_EINVALID, "path 'envs/prod.yaml' in the artifact is not a folder");
	o.subpath = "../x";
	maker_open(&m, 1);
	maker_close(&m);
	expect_refused(&m, &o, OCI_EINVALID, "path '../x' has a '..' component");

	/* a symlink that stays inside the artifact but leaves the subpath */
	maker_open(&m, 1);
	maker_add(&m, 'f', "envs/dev/app.yaml", "dev\n", 0644);
	maker_add(&m, 'l', "envs/prod/dev.yaml", "../dev/app.yaml", 0777);
	maker_close(&m);
	o.subpath = "envs/prod";
	expect_refused(&m, &o, OCI_EUNSAFE, "symlink 'envs/prod/dev.yaml' -> '../dev/app.yaml' points outside");

	/* hostile entries outside the subpath are still refused */
	maker_open(&m, 1);
	maker_add(&m, 'f', "envs/prod/a.yaml", "a\n", 0644);
	maker_add(&m, 'f', "other/../../pwned", "x\n", 0644);
	maker_close(&m);
	expect_refused(&m, &o, OCI_EUNSAFE, "has a '..' component");
}

static ino_t inode_of(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 ? sb.st_ino : 0;
}

static void test_reuse_and_read_only(void)
{
	char *src = make_tmpdir("extract-r");
	char *root = make_tmpdir("extract-rev");
	for (int i = 0; i < 30; i++)
		put(src, P("teams/t%d/app%02d.yaml", i % 3, i), P("app: %d\n", i), 0644);
	put(src, "bin/hook.sh", "#!/bin/sh\n", 0755);
	put(src, "big.yaml", "", 0644);
	{
		/* one file over the in-memory threshold: written, then linked */
		char *big = malloc(1500001);
		memset(big, 'y', 1500000);
		big[1500000] = '\0';
		put(src, "big.yaml", big, 0644);
		free(big);
	}
	oci_buf_sink s1 = { 0 }, s2 = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s1, &r, src, NULL), 0);
	put(src, "teams/t1/app07.yaml", "app: changed\n", 0644);
	CHECK_EQ_INT(pack_mem(&s2, &r, src, NULL), 0);

	const char *rev1 = P("%s/rev1", root), *rev2 = P("%s/rev2", root);
	const char *idx1 = P("%s/rev1.index", root), *idx2 = P("%s/rev2.index", root);
	mkdir(rev1, 0755);
	mkdir(rev2, 0755);
	oci_extract_opts o; oci_extract_opts_init(&o);
	o.read_only = 1;
	o.index_out = idx1;
	oci_extract_stats st;
	CHECK_EQ_INT(extract_mem(&st, &s1.buf, rev1, &o), 0);
	CHECK_EQ_INT(st.files_written, 32);
	CHECK_EQ_INT(st.files_linked, 0);
	struct stat sb;
	stat(P("%s/teams/t0/app00.yaml", rev1), &sb);
	CHECK_EQ_INT(sb.st_mode & 07777, 0444);
	stat(P("%s/bin/hook.sh", rev1), &sb);
	CHECK_EQ_INT(sb.st_mode & 07777, 0555);
	stat(P("%s/teams/t0", rev1), &sb);
	CHECK_EQ_INT(sb.st_mode & 07777, 0755);
	char *index = slurp(idx1);
	char d[OCI_DIGEST_SIZE];
	oci_digest_buf(d, "app: 0\n", 7);
	CHECK(index && strstr(index, P("%s 644 teams/t0/app00.yaml\n", oci_digest_hex(d))));
	CHECK(index && strstr(index, " 755 bin/hook.sh\n"));
	free(index);

	o.reuse_dir = rev1;
	o.reuse_index = idx1;
	o.index_out = idx2;
	CHECK_EQ_INT(extract_mem(&st, &s2.buf, rev2, &o), 0);
	CHECK_EQ_INT(st.files_linked, 31);
	CHECK_EQ_INT(st.files_written, 1);
	CHECK_EQ_INT(inode_of(P("%s/teams/t0/app00.yaml", rev1)), inode_of(P("%s/teams/t0/app00.yaml", rev2)));
	CHECK_EQ_INT(inode_of(P("%s/big.yaml", rev1)), inode_of(P("%s/big.yaml", rev2)));
	CHECK(inode_of(P("%s/teams/t1/app07.yaml", rev1)) != inode_of(P("%s/teams/t1/app07.yaml", rev2)));
	char *c = slurp(P("%s/teams/t1/app07.yaml", rev2));
	CHECK_STR(c, "app: changed\n");
	free(c);
	c = slurp(P("%s/teams/t1/app07.yaml", rev1));
	CHECK_STR(c, "app: 7\n"); /* the old revision is untouched */
	free(c);
	CHECK(!exists(P("%s/.ocisync-reuse.tmp", rev2)));

	/* a writable extraction never shares inodes with a read-only one */
	const char *rev3 = P("%s/rev3", root);
	mkdir(rev3, 0755);
	o.read_only = 0;
	o.index_out = NULL;
	CHECK_EQ_INT(extract_mem(&st, &s2.buf, rev3, &o), 0);
	CHECK_EQ_INT(st.files_linked, 0);

	/* a missing index or revision just means no reuse */
	const char *rev4 = P("%s/rev4", root);
	mkdir(rev4, 0755);
	o.reuse_index = P("%s/none.index", root);
	CHECK_EQ_INT(extract_mem(&st, &s2.buf, rev4, &o), 0);
	CHECK_EQ_INT(st.files_written, 32);

	/* read-only trees are removable */
	CHECK_EQ_INT(oci_rmtree(rev1), 0);
	CHECK(!exists(rev1));
	CHECK_EQ_INT(oci_rmtree(P("%s/nothing-here", root)), 0);
	/* rmtree removes a symlink, not what it points to */
	CHECK_EQ_INT(symlink(rev2, P("%s/link", root)), 0);
	CHECK_EQ_INT(oci_rmtree(P("%s/link", root)), 0);
	CHECK(exists(P("%s/teams/t1/app07.yaml", rev2)));

	oci_buf_dispose(&s1.buf);
	oci_buf_dispose(&s2.buf);
	oci_rmtree(root);
	oci_rmtree(src);
	free(root);
	free(src);
}

/* Writes len bytes of buf to root/rel. */
static void put_bytes(const char *root, const char *rel, const unsigned char *buf, size_t len)
{
	FILE *f = fopen(P("%s/%s", root, rel), "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0)
		exit(2);
}

/* Sparse files: whole zero blocks become holes, the content and size stay
 * exact whatever the mix (data, zeros at unaligned offsets, a trailing
 * hole, files shorter than a block). */
static void test_sparse(void)
{
	char *src = make_tmpdir("extract-sparse");
	size_t n = 300000;
	unsigned char *b = calloc(1, n);
	memset(b, 'a', 100);                    /* data, then three zero blocks */
	memset(b + 100 + 3 * 4096, 'b', 5000);  /* data at an unaligned offset */
	memset(b + 40000, 'c', 1);              /* one byte among zeros */
	b[n - 5000] = 'd';                      /* then zeros to the end */
	put_bytes(src, "mixed.bin", b, n);
	unsigned char *z = calloc(1, 1 << 20);
	put_bytes(src, "zeros.bin", z, 1 << 20);
	put_bytes(src, "short.bin", z, 10);
	put_bytes(src, "tail.bin", b, 100 + 4096 + 17); /* ends inside a zero run shorter than a block */
	oci_buf_sink s = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s, &r, src, NULL), 0);
	sandbox_new();
	oci_extract_stats st;
	CHECK_EQ_INT(extract_mem(&st, &s.buf, dest, NULL), 0);
	struct { const char *name; const unsigned char *data; size_t len; } want[] = {
		{ "mixed.bin", b, n }, { "zeros.bin", z, 1 << 20 }, { "short.bin", z, 10 }, { "tail.bin", b, 100 + 4096 + 17 },
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		FILE *f = fopen(P("%s/%s", dest, want[i].name), "rb");
		unsigned char *got = malloc(want[i].len + 1);
		size_t g = f ? fread(got, 1, want[i].len + 1, f) : 0;
		if (f)
			fclose(f);
		CHECK_EQ_INT(g, want[i].len);
		CHECK(g == want[i].len && memcmp(got, want[i].data, g) == 0);
		free(got);
	}
	/* Where the filesystem makes holes (a 1 MiB file truncated into
	 * existence takes no blocks), the extracted zeros take none either. */
	int fd = open(P("%s/probe", sandbox), O_CREAT | O_WRONLY, 0600);
	struct stat probe, zs, ms;
	CHECK(fd >= 0 && ftruncate(fd, 1 << 20) == 0 && fstat(fd, &probe) == 0);
	close(fd);
	unlink(P("%s/probe", sandbox));
	CHECK_EQ_INT(stat(P("%s/zeros.bin", dest), &zs), 0);
	CHECK_EQ_INT(stat(P("%s/mixed.bin", dest), &ms), 0);
	if (probe.st_blocks == 0) {
		CHECK_EQ_INT(zs.st_blocks, 0);
		CHECK((int64_t)ms.st_blocks * 512 < (int64_t)n / 2);
	} else {
		fprintf(stderr, "   this filesystem makes no holes: sizes only\n");
	}
	sandbox_check_and_free();
	oci_buf_dispose(&s.buf);
	oci_rmtree(src);
	free(src);
	free(b);
	free(z);
}

int main(void)
{
	snprintf(pwned, sizeof pwned, "/tmp/oci-extract-pwned-%d", (int)getpid());
	RUN(test_roundtrip);
	RUN(test_dotdot_and_absolute);
	RUN(test_symlink_escapes);
	RUN(test_hardlinks);
	RUN(test_special_files);
	RUN(test_limits);
	RUN(test_corrupt);
	RUN(test_multi_member_gzip);
	RUN(test_source_error);
	RUN(test_subpath);
	RUN(test_reuse_and_read_only);
	RUN(test_sparse);
	TEST_END();
}
