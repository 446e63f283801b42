/* The packer: byte-reproducible layers, the tar and gzip bytes, ignore
 * rules, symlinks, single files. */
#include <locale.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <zlib.h>

#include "tree_util.h"
#include "error_internal.h"
#include "test.h"

/* A tree with what a rendered repository holds, plus traps. */
static void make_tree(const char *root, mode_t file_mode, mode_t exec_mode)
{
	put(root, "apps/web/deployment.yaml", "kind: Deployment\n", file_mode);
	put(root, "apps/web/service.yaml", "kind: Service\n", file_mode);
	put(root, "apps/web-canary/deployment.yaml", "kind: Deployment\nname: canary\n", file_mode);
	put(root, "apps/z.yaml", "z: 1\n", file_mode);
	put(root, "scripts/render.sh", "#!/bin/sh\necho hi\n", exec_mode);
	put(root, "README.md", "# manifests\n", file_mode);
	put(root, ".git/config", "[core]\n", file_mode);
	put(root, "vendor/.git/HEAD", "ref: x\n", file_mode);
	put(root, "vendor/lib.yaml", "lib: 1\n", file_mode);
	/* long names need a pax path record */
	put(root, "long/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.yaml",
	    "long: 1\n", file_mode);
	put(root, "intl/caf\xc3\xa9.yaml", "cafe: 1\n", file_mode);
	mkdir_p(P("%s/empty", root));
	chmod(P("%s/empty", root), exec_mode == 0755 ? 0755 : 0700);
	if (symlink("web/service.yaml", P("%s/apps/svc-link", root)) < 0)
		perror("symlink");
}

static void set_times(const char *root, time_t t)
{
	const char *files[] = { "apps/web/deployment.yaml", "apps/z.yaml", "scripts/render.sh", "README.md", "apps", "." };
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		struct timeval tv[2] = { { t, 123 }, { t, 456 } };
		utimes(P("%s/%s", root, files[i]), tv);
	}
}

static void test_reproducible(void)
{
	char *a = make_tmpdir("bundle-a"), *b = make_tmpdir("bundle-b");
	mode_t old = umask(022);
	make_tree(a, 0644, 0755);
	set_times(a, 1000000000);
	umask(077);
	make_tree(b, 0600, 0700); /* other umask: 0600 files, 0700 executables */
	set_times(b, 1700000000);
	chmod(P("%s/README.md", b), 0664);
	umask(old);
	if (geteuid() == 0) {
		/* another owner too */
		const char *paths[] = { "README.md", "apps/z.yaml", "scripts/render.sh", "apps" };
		for (size_t i = 0; i < 4; i++)
			CHECK_EQ_INT(lchown(P("%s/%s", b, paths[i]), 1234, 1234), 0);
	}

	oci_buf_sink s1 = { 0 }, s2 = { 0 }, s3 = { 0 };
	oci_pack_result r1, r2, r3;
	CHECK_EQ_INT(pack_mem(&s1, &r1, a, NULL), 0);
	CHECK_EQ_INT(pack_mem(&s2, &r2, a, NULL), 0);
	CHECK_EQ_INT(pack_mem(&s3, &r3, b, NULL), 0);
	CHECK_STR(r1.digest, r2.digest);
	CHECK_STR(r1.digest, r3.digest);
	CHECK_STR(r1.diff_id, r3.diff_id);
	CHECK_EQ_INT(r1.size, r3.size);
	CHECK_EQ_INT(r1.size, (long long)s1.buf.len);
	CHECK(s1.buf.len == s3.buf.len && memcmp(s1.buf.data, s3.buf.data, s1.buf.len) == 0);

	/* the caller's locale does not matter (the tree has a non-ASCII name) */
	if (setlocale(LC_ALL, "C.UTF-8")) {
		oci_buf_sink s4 = { 0 };
		oci_pack_result r4;
		CHECK_EQ_INT(pack_mem(&s4, &r4, a, NULL), 0);
		CHECK_STR(r4.digest, r1.digest);
		setlocale(LC_ALL, "C");
		oci_buf_dispose(&s4.buf);
	}

	/* the digest is the sha256 of exactly the bytes the sink got */
	char d[OCI_DIGEST_SIZE];
	oci_digest_buf(d, s1.buf.data, s1.buf.len);
	CHECK_STR(d, r1.digest);

	oci_buf_dispose(&s1.buf);
	oci_buf_dispose(&s2.buf);
	oci_buf_dispose(&s3.buf);
	oci_rmtree(a);
	oci_rmtree(b);
	free(a);
	free(b);
}

/* Lists the layer with libarchive: "path type mode uid gid mtime unameset". */
static void list_layer(oci_buf *listing, const oci_buf *layer)
{
	struct archive *ar = archive_read_new();
	archive_read_support_filter_gzip(ar);
	archive_read_support_format_tar(ar);
	CHECK_EQ_INT(archive_read_open_memory(ar, layer->data, layer->len), ARCHIVE_OK);
	struct archive_entry *e;
	/* ARCHIVE_WARN: the C locale cannot show a UTF-8 name; take its bytes */
	int ar_rc;
	while ((ar_rc = archive_read_next_header(ar, &e)) == ARCHIVE_OK || ar_rc == ARCHIVE_WARN) {
		char line[1024];
		const char *name = archive_entry_pathname(e) ? archive_entry_pathname(e) : archive_entry_pathname_utf8(e);
		snprintf(line, sizeof line, "%s %c %o %lld %lld %lld %lld %s%s%s\n", name,
			 archive_entry_filetype(e) == AE_IFDIR ? 'd' : archive_entry_filetype(e) == AE_IFLNK ? 'l' : 'f',
			 (unsigned)archive_entry_perm(e), (long long)archive_entry_uid(e), (long long)archive_entry_gid(e),
			 (long long)archive_entry_mtime(e), (long long)(archive_entry_atime_is_set(e) || archive_entry_ctime_is_set(e)),
			 archive_entry_uname(e) && *archive_entry_uname(e) ? "U" : "", archive_entry_gname(e) && *archive_entry_gname(e) ? "G" : "",
			 archive_entry_symlink(e) ? archive_entry_symlink(e) : "");
		oci_buf_append(listing, line, strlen(line));
	}
	archive_read_free(ar);
}

static void test_tar_bytes(void)
{
	char *a = make_tmpdir("bundle-t");
	make_tree(a, 0644, 0755);
	oci_buf_sink s = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s, &r, a, NULL), 0);

	/* gzip header: magic, deflate, no flags (no name), mtime 0, OS unix */
	static const unsigned char hdr[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3 };
	CHECK(s.buf.len > 10 && memcmp(s.buf.data, hdr, 10) == 0);

	/* diff_id = sha256 of the gunzipped stream */
	z_stream zs = { 0 };
	CHECK_EQ_INT(inflateInit2(&zs, 15 + 16), Z_OK);
	oci_sha256 *h = NULL;
	oci_sha256_new(&h);
	unsigned char out[65536];
	int64_t total = 0;
	zs.next_in = (unsigned char *)s.buf.data;
	zs.avail_in = (uInt)s.buf.len;
	int zr;
	do {
		zs.next_out = out;
		zs.avail_out = sizeof out;
		zr = inflate(&zs, Z_NO_FLUSH);
		oci_sha256_update(h, out, sizeof out - zs.avail_out);
		total += (int64_t)(sizeof out - zs.avail_out);
	} while (zr == Z_OK);
	CHECK_EQ_INT(zr, Z_STREAM_END);
	CHECK_EQ_INT(zs.avail_in, 0); /* one gzip member, nothing after it */
	inflateEnd(&zs);
	char d[OCI_DIGEST_SIZE];
	oci_sha256_final(d, h);
	oci_sha256_free(h);
	CHECK_STR(d, r.diff_id);
	CHECK_EQ_INT(total, r.tar_size);

	oci_buf listing = OCI_BUF_INIT;
	list_layer(&listing, &s.buf);
	const char *expect =
		"README.md f 644 0 0 0 0 \n"
		"apps/ d 755 0 0 0 0 \n"
		"apps/svc-link l 777 0 0 0 0 web/service.yaml\n"
		"apps/web-canary/ d 755 0 0 0 0 \n"
		"apps/web-canary/deployment.yaml f 644 0 0 0 0 \n"
		"apps/web/ d 755 0 0 0 0 \n"
		"apps/web/deployment.yaml f 644 0 0 0 0 \n"
		"apps/web/service.yaml f 644 0 0 0 0 \n"
		"apps/z.yaml f 644 0 0 0 0 \n"
		"empty/ d 755 0 0 0 0 \n"
		"intl/ d 755 0 0 0 0 \n"
		"intl/caf\xc3\xa9.yaml f 644 0 0 0 0 \n"
		"long/ d 755 0 0 0 0 \n"
		"long/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ d 755 0 0 0 0 \n"
		"long/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.yaml f 644 0 0 0 0 \n"
		"scripts/ d 755 0 0 0 0 \n"
		"scripts/render.sh f 755 0 0 0 0 \n"
		"vendor/ d 755 0 0 0 0 \n"
		"vendor/lib.yaml f 644 0 0 0 0 \n";
	CHECK_STR(listing.data, expect);
	CHECK_EQ_INT(r.entries, 19);
	/* "apps/web-canary/" sorts before "apps/web/": byte order of the
	 * whole path, '-' < '/' */

	oci_buf_dispose(&listing);
	oci_buf_dispose(&s.buf);
	oci_rmtree(a);
	free(a);
}

static void test_ignore_rules(void)
{
	char *a = make_tmpdir("bundle-i");
	put(a, "keep.yaml", "k\n", 0644);
	put(a, "drop.tmp", "d\n", 0644);
	put(a, "important.tmp", "i\n", 0644);
	put(a, "secrets/db.yaml", "s\n", 0644);
	put(a, "app/secrets/ok.yaml", "o\n", 0644);
	put(a, "cli-ignored.yaml", "c\n", 0644);
	put(a, ".sourceignore", "# flux style\n*.tmp\n!important.tmp\n/secrets/\n", 0644);
	oci_strlist ig = OCI_STRLIST_INIT;
	oci_strlist_push(&ig, "cli-*.yaml");
	oci_file_list l = { 0 };
	oci_pack_opts o; oci_pack_opts_init(&o);
	o.ignore = &ig;
	CHECK_EQ_INT(oci_bundle_list(&l, a, &o), 0);
	oci_buf names = OCI_BUF_INIT;
	for (size_t i = 0; i < l.n; i++) {
		oci_buf_append(&names, l.items[i].path, strlen(l.items[i].path));
		oci_buf_append(&names, " ", 1);
	}
	CHECK_STR(names.data, ".sourceignore app app/secrets app/secrets/ok.yaml important.tmp keep.yaml ");
	/* list entries carry type, mode and content digest */
	char d[OCI_DIGEST_SIZE];
	oci_digest_buf(d, "k\n", 2);
	CHECK_STR(l.items[l.n - 1].digest, d);
	CHECK_EQ_INT(l.items[l.n - 1].type, 'f');
	CHECK_EQ_INT(l.items[l.n - 1].mode, 0644);
	CHECK_EQ_INT(l.items[l.n - 1].size, 2);
	CHECK_EQ_INT(l.items[1].type, 'd');

	/* pack agrees with list */
	oci_buf_sink s = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s, &r, a, &ig), 0);
	CHECK_EQ_INT(r.entries, l.n);

	oci_buf_dispose(&names);
	oci_file_list_dispose(&l);
	oci_strlist_dispose(&ig);
	oci_buf_dispose(&s.buf);
	oci_rmtree(a);
	free(a);
}

static void test_symlinks(void)
{
	char *a = make_tmpdir("bundle-l");
	put(a, "base/x.yaml", "x\n", 0644);
	CHECK_EQ_INT(symlink("base/x.yaml", P("%s/y.yaml", a)), 0);
	mkdir_p(P("%s/overlays/prod", a));
	CHECK_EQ_INT(symlink("../../base", P("%s/overlays/prod/base", a)), 0);
	CHECK_EQ_INT(symlink("..", P("%s/overlays/root", a)), 0); /* the root itself is inside */
	oci_buf_sink s = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s, &r, a, NULL), 0);
	oci_buf_dispose(&s.buf);

	CHECK_EQ_INT(symlink("../../../etc/passwd", P("%s/overlays/prod/evil", a)), 0);
	oci_buf_sink s2 = { 0 };
	CHECK_EQ_INT(pack_mem(&s2, &r, a, NULL), OCI_EUNSAFE);
	CHECK_ERR_CONTAINS(P("symlink %s/overlays/prod/evil -> ../../../etc/passwd points outside of %s", a, a));
	oci_buf_dispose(&s2.buf);
	unlink(P("%s/overlays/prod/evil", a));

	CHECK_EQ_INT(symlink("/etc/passwd", P("%s/abs", a)), 0);
	oci_buf_sink s3 = { 0 };
	CHECK_EQ_INT(pack_mem(&s3, &r, a, NULL), OCI_EUNSAFE);
	CHECK_ERR_CONTAINS(P("symlink %s/abs -> /etc/passwd points to an absolute path", a));
	oci_buf_dispose(&s3.buf);
	unlink(P("%s/abs", a));

	/* ".." after a name: lexically inside, but "base" could be a symlink */
	CHECK_EQ_INT(symlink("base/../..", P("%s/tricky", a)), 0);
	oci_buf_sink s4 = { 0 };
	CHECK_EQ_INT(pack_mem(&s4, &r, a, NULL), OCI_EUNSAFE);
	CHECK_ERR_CONTAINS("has '..' after a name");
	oci_buf_dispose(&s4.buf);
	unlink(P("%s/tricky", a));

	/* special files: a clear error, unless ignored */
	CHECK_EQ_INT(mkfifo(P("%s/pipe", a), 0644), 0);
	oci_buf_sink s5 = { 0 };
	CHECK_EQ_INT(pack_mem(&s5, &r, a, NULL), OCI_EUNSUPPORTED);
	CHECK_ERR_CONTAINS(P("%s/pipe is a FIFO; only files, directories and symlinks can be packed", a));
	oci_buf_dispose(&s5.buf);
	oci_strlist ig = OCI_STRLIST_INIT;
	oci_strlist_push(&ig, "pipe");
	oci_buf_sink s6 = { 0 };
	CHECK_EQ_INT(pack_mem(&s6, &r, a, &ig), 0);
	oci_buf_dispose(&s6.buf);
	oci_strlist_dispose(&ig);
	oci_rmtree(a);
	free(a);
}

static void test_single_file_and_pack_file(void)
{
	char *a = make_tmpdir("bundle-f");
	put(a, "src/deep/app.yaml", "kind: ConfigMap\n", 0600);
	const char *dest = P("%s/layer.tar.gz", a);
	oci_pack_result r;
	CHECK_EQ_INT(oci_bundle_pack_file(&r, P("%s/src/deep/app.yaml", a), NULL, dest), 0);
	CHECK_EQ_INT(r.entries, 1);
	struct stat st;
	CHECK_EQ_INT(stat(dest, &st), 0);
	CHECK_EQ_INT(st.st_mode & 0777, 0644);
	CHECK_EQ_INT(st.st_size, r.size);
	char d[OCI_DIGEST_SIZE];
	int64_t size;
	oci_digest_file(d, &size, dest);
	CHECK_STR(d, r.digest);
	CHECK_EQ_INT(dir_count(a), 2); /* src and the layer: no temporary left */

	oci_buf layer = OCI_BUF_INIT, listing = OCI_BUF_INIT;
	char *bytes = slurp(dest);
	oci_buf_append(&layer, bytes, (size_t)st.st_size);
	free(bytes);
	list_layer(&listing, &layer);
	CHECK_STR(listing.data, "app.yaml f 644 0 0 0 0 \n");

	/* a failure leaves no file and no temporary behind */
	CHECK_EQ_INT(oci_bundle_pack_file(&r, P("%s/missing", a), NULL, P("%s/other.tar.gz", a)), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("missing");
	CHECK_EQ_INT(dir_count(a), 2);
	oci_pack_opts bad; oci_pack_opts_init(&bad);
	bad.gzip_level = 12;
	CHECK_EQ_INT(oci_bundle_pack_file(&r, a, &bad, P("%s/other.tar.gz", a)), OCI_EINVALID);
	CHECK_ERR_CONTAINS("gzip level 12");

	oci_buf_dispose(&layer);
	oci_buf_dispose(&listing);
	oci_rmtree(a);
	free(a);
}

/* Several compression chunks: the parallel gzip must still be one valid
 * member and the same bytes every time. */
static void test_large_file(void)
{
	char *a = make_tmpdir("bundle-big");
	size_t n = 3 * 1024 * 1024 + 12345;
	char *data = malloc(n + 1);
	unsigned x = 12345;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		data[i] = (char)("abcdefgh: \n01234"[(x >> 16) & 15]);
	}
	data[n] = '\0';
	put(a, "big.yaml", data, 0644);
	oci_buf_sink s1 = { 0 }, s2 = { 0 };
	oci_pack_result r1, r2;
	CHECK_EQ_INT(pack_mem(&s1, &r1, a, NULL), 0);
	CHECK_EQ_INT(pack_mem(&s2, &r2, a, NULL), 0);
	CHECK_STR(r1.digest, r2.digest);
	/* one CPU, so one compression thread: the very same bytes */
	cpu_set_t all, one;
	if (sched_getaffinity(0, sizeof all, &all) == 0) {
		CPU_ZERO(&one);
		for (int c = 0; c < CPU_SETSIZE; c++)
			if (CPU_ISSET(c, &all)) {
				CPU_SET(c, &one);
				break;
			}
		CHECK_EQ_INT(sched_setaffinity(0, sizeof one, &one), 0);
		oci_buf_sink s3 = { 0 };
		oci_pack_result r3;
		CHECK_EQ_INT(pack_mem(&s3, &r3, a, NULL), 0);
		CHECK_STR(r3.digest, r1.digest);
		sched_setaffinity(0, sizeof all, &all);
		oci_buf_dispose(&s3.buf);
	}
	/* gunzip and compare the file's bytes */
	char *dest = make_tmpdir("bundle-big-x");
	oci_extract_stats st;
	CHECK_EQ_INT(extract_mem(&st, &s1.buf, dest, NULL), 0);
	char *back = slurp(P("%s/big.yaml", dest));
	CHECK(back && strlen(back) == n && memcmp(back, data, n) == 0);
	free(back);
	free(data);
	oci_buf_dispose(&s1.buf);
	oci_buf_dispose(&s2.buf);
	oci_rmtree(a);
	oci_rmtree(dest);
	free(a);
	free(dest);
}

/* Hard-linked files are stored as two regular files. */
static void test_hardlinked_source(void)
{
	char *a = make_tmpdir("bundle-h");
	put(a, "one.yaml", "same\n", 0644);
	CHECK_EQ_INT(link(P("%s/one.yaml", a), P("%s/two.yaml", a)), 0);
	oci_buf_sink s = { 0 };
	oci_pack_result r;
	CHECK_EQ_INT(pack_mem(&s, &r, a, NULL), 0);
	oci_buf listing = OCI_BUF_INIT;
	list_layer(&listing, &s.buf);
	CHECK_STR(listing.data, "one.yaml f 644 0 0 0 0 \ntwo.yaml f 644 0 0 0 0 \n");
	char *dest = make_tmpdir("bundle-h-x");
	CHECK_EQ_INT(extract_mem(NULL, &s.buf, dest, NULL), 0);
	char *c = slurp(P("%s/two.yaml", dest));
	CHECK_STR(c, "same\n");
	free(c);
	oci_buf_dispose(&listing);
	oci_buf_dispose(&s.buf);
	oci_rmtree(a);
	oci_rmtree(dest);
	free(a);
	free(dest);
}

static int failing_sink(void *ctx, const void *buf, size_t len)
{
	(void)buf;
	size_t *seen = ctx;
	*seen += len;
	if (*seen > 1000)
		return oci_error_set(OCI_EIO, "disk full (test)");
	return 0;
}

static void test_sink_error(void)
{
	char *a = make_tmpdir("bundle-e");
	for (int i = 0; i < 200; i++) {
		char content[3000];
		for (int j = 0; j < 2999; j++)
			content[j] = (char)('a' + (i * 7 + j * 13) % 26);
		content[2999] = '\0';
		put(a, P("f%03d.yaml", i), content, 0644);
	}
	size_t seen = 0;
	oci_pack_result r;
	CHECK_EQ_INT(oci_bundle_pack(&r, a, NULL, failing_sink, &seen), OCI_EIO);
	CHECK_ERR_CONTAINS("disk full (test)");
	oci_rmtree(a);
	free(a);
}

int main(void)
{
	RUN(test_reproducible);
	RUN(test_tar_bytes);
	RUN(test_ignore_rules);
	RUN(test_symlinks);
	RUN(test_single_file_and_pack_file);
	RUN(test_large_file);
	RUN(test_hardlinked_source);
	RUN(test_sink_error);
	TEST_END();
}
