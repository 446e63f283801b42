/* Recycle mode of the extractor (sync, issue 13): an earlier revision
 * updated in place must end exactly as a fresh extraction of the same
 * archive (files, contents, modes, symlinks, directories, nothing more),
 * keep the inodes of files that did not change, never write into an inode
 * it held (another revision may share it), and keep every refusal. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "error_internal.h"
#include "extract_internal.h"
#include "tree_util.h"
#include "test.h"

static char *root;
static char rev[512], idx[512]; /* the revision recycled, its index */
static int64_t durable;         /* what the last recycle() fsynced */
static int fresh(oci_extract_stats *st, const oci_buf *b, const char *dir, const char *index_out);

/* rev made from archive (fresh), with its index. */
static int make_rev(oci_extract_stats *st, const oci_buf *archive)
{
	snprintf(rev, sizeof rev, "%s/rev", root);
	snprintf(idx, sizeof idx, "%s/rev.index", root);
	return fresh(st, archive, rev, idx);
}

/* type, mode, size and content (or target) of every entry under dir,
 * sorted by path, one per line. */
static void listing_of(oci_buf *out, const char *dir, const char *rel)
{
	const char *path = *rel ? P("%s/%s", dir, rel) : dir;
	char here[4096];
	snprintf(here, sizeof here, "%s", path);
	DIR *d = opendir(here);
	if (!d)
		return;
	char *names[256];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 256)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			names[n++] = strdup(e->d_name);
	closedir(d);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (strcmp(names[i], names[j]) > 0) {
				char *t = names[i];
				names[i] = names[j];
				names[j] = t;
			}
	for (int i = 0; i < n; i++) {
		char sub[2048], full[4096], line[8192];
		snprintf(sub, sizeof sub, "%.1000s%s%.1000s", rel, *rel ? "/" : "", names[i]);
		snprintf(full, sizeof full, "%s/%s", dir, sub);
		struct stat st;
		lstat(full, &st);
		if (S_ISDIR(st.st_mode)) {
			snprintf(line, sizeof line, "d %o %s\n", st.st_mode & 07777, sub);
			oci_buf_append(out, line, strlen(line));
			listing_of(out, dir, sub);
		} else if (S_ISLNK(st.st_mode)) {
			char t[4096] = "";
			ssize_t k = readlink(full, t, sizeof t - 1);
			t[k > 0 ? k : 0] = '\0';
			snprintf(line, sizeof line, "l %s -> %s\n", sub, t);
			oci_buf_append(out, line, strlen(line));
		} else {
			char *c = slurp(full);
			snprintf(line, sizeof line, "f %o %s: %s\n", st.st_mode & 07777, sub, c ? c : "?");
			free(c);
			oci_buf_append(out, line, strlen(line));
		}
		free(names[i]);
	}
}

static char *listing(const char *dir)
{
	oci_buf b = OCI_BUF_INIT;
	listing_of(&b, dir, "");
	oci_buf_append(&b, "", 1);
	return b.data;
}

static ino_t ino(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static int recycle(oci_extract_stats *st, const oci_buf *b, const char *dir, const char *index, const char *index_out)
{
	oci_extract_opts o;
	oci_extract_opts_init(&o);
	o.read_only = 1;
	o.index_out = index_out;
	mem_src m = { (const unsigned char *)b->data, b->len, 0 };
	return oci__extract_recycle_at(st, mem_read, &m, AT_FDCWD, dir, dir, &o, index, &durable);
}

static int fresh(oci_extract_stats *st, const oci_buf *b, const char *dir, const char *index_out)
{
	oci_extract_opts o;
	oci_extract_opts_init(&o);
	o.read_only = 1;
	o.index_out = index_out;
	mkdir(dir, 0755);
	return extract_mem(st, b, dir, &o);
}

static void test_recycle_equals_fresh(void)
{
	root = make_tmpdir("recycle");
	tar_maker a, b;
	maker_open(&a, 1);
	maker_add(&a, 'd', "apps/", NULL, 0755);
	maker_add(&a, 'f', "apps/same.yaml", "same\n", 0644);
	maker_add(&a, 'f', "apps/changed.yaml", "old\n", 0644);
	maker_add(&a, 'f', "apps/gone.yaml", "gone\n", 0644);
	maker_add(&a, 'f', "apps/mode.sh", "#!/bin/sh\n", 0644);
	maker_add(&a, 'f', "becomes-link", "file\n", 0644);
	maker_add(&a, 'l', "link-same", "apps/same.yaml", 0777);
	maker_add(&a, 'l', "link-moves", "apps/same.yaml", 0777);
	maker_add(&a, 'l', "link-becomes-dir", "apps", 0777);
	maker_add(&a, 'h', "apps/hard", "apps/changed.yaml", 0644);
	maker_add(&a, 'f', "old/deep/x.yaml", "x\n", 0644);
	maker_close(&a);
	maker_open(&b, 1);
	maker_add(&b, 'f', "apps/same.yaml", "same\n", 0644);
	maker_add(&b, 'f', "apps/changed.yaml", "new\n", 0644);
	maker_add(&b, 'f', "apps/mode.sh", "#!/bin/sh\n", 0755);
	maker_add(&b, 'l', "becomes-link", "apps/same.yaml", 0777);
	maker_add(&b, 'l', "link-same", "apps/same.yaml", 0777);
	maker_add(&b, 'l', "link-moves", "apps/changed.yaml", 0777);
	maker_add(&b, 'f', "link-becomes-dir/f.yaml", "f\n", 0644);
	maker_add(&b, 'h', "apps/hard", "apps/same.yaml", 0644);
	maker_add(&b, 'f', "old", "a file now\n", 0644);
	maker_close(&b);

	oci_extract_stats st;
	CHECK_EQ_INT(make_rev(&st, &a.out), 0);
	/* another revision sharing the inodes: must never see them change */
	char other[512];
	snprintf(other, sizeof other, "%s/other-changed", root);
	CHECK_EQ_INT(link(P("%s/apps/changed.yaml", rev), other), 0);
	ino_t same_ino = ino(P("%s/apps/same.yaml", rev)), link_ino = ino(P("%s/link-same", rev));
	/* strays the index does not know */
	put(rev, "stray.yaml", "stray\n", 0644);
	mkdir_p(P("%s/apps/stray-dir/sub", rev));
	CHECK_EQ_INT(symlink("/", P("%s/apps/stray-link", rev)), 0);
	chmod(P("%s/apps", rev), 0700);

	char idx2[512];
	snprintf(idx2, sizeof idx2, "%s/new.index", root);
	CHECK_EQ_INT(recycle(&st, &b.out, rev, idx, idx2), 0);
	CHECK_EQ_INT(fresh(&st, &b.out, P("%s/fresh", root), P("%s/fresh.index", root)), 0);
	char *got = listing(rev), *want = listing(P("%s/fresh", root));
	CHECK(strstr(got, "f 444 apps/same.yaml: same") && strstr(got, "l link-moves -> apps/changed.yaml"));
	CHECK_STR(got, want);
	free(got);
	free(want);
	char *i1 = slurp(idx2), *i2 = slurp(P("%s/fresh.index", root));
	CHECK_STR(i1, i2);
	free(i1);
	free(i2);
	/* what did not change kept its inode; nothing shared was written */
	CHECK_EQ_INT(ino(P("%s/apps/same.yaml", rev)), same_ino);
	CHECK_EQ_INT(ino(P("%s/link-same", rev)), link_ino);
	char *c = slurp(other);
	CHECK_STR(c, "old\n");
	free(c);
	CHECK_EQ_INT(ino(P("%s/apps/hard", rev)), same_ino);
	oci_buf_dispose(&a.out);
	oci_buf_dispose(&b.out);
	oci_rmtree(root);
	free(root);
}

/* A tampered file (changed after the index was written, even at the same
 * size) and a file whose inode another revision shares are never kept
 * or written into. */
static void test_recycle_tampered(void)
{
	root = make_tmpdir("recycle-t");
	tar_maker a;
	maker_open(&a, 1);
	maker_add(&a, 'f', "t.yaml", "T1\n", 0644);
	maker_close(&a);
	oci_extract_stats st;
	CHECK_EQ_INT(make_rev(&st, &a.out), 0);
	struct timespec later = { 0, 20 * 1000 * 1000 };
	nanosleep(&later, NULL);
	/* the tamperer makes the read-only file writable first (root would not
	 * need to: dpkg-buildpackage runs this test unprivileged), then puts
	 * the mode back so only the content and mtime differ */
	CHECK_EQ_INT(chmod(P("%s/t.yaml", rev), 0644), 0);
	int fd = open(P("%s/t.yaml", rev), O_WRONLY | O_TRUNC);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, "XX\n", 3), 3);
	close(fd);
	CHECK_EQ_INT(chmod(P("%s/t.yaml", rev), 0444), 0);
	/* shared with another revision: that one must keep what it has */
	CHECK_EQ_INT(link(P("%s/t.yaml", rev), P("%s/other", root)), 0);
	CHECK_EQ_INT(recycle(&st, &a.out, rev, idx, P("%s/new.index", root)), 0);
	CHECK_EQ_INT(st.files_written, 1);
	CHECK_EQ_INT(st.files_linked, 0);
	char *c = slurp(P("%s/t.yaml", rev));
	CHECK_STR(c, "T1\n");
	free(c);
	c = slurp(P("%s/other", root));
	CHECK_STR(c, "XX\n");
	free(c);
	/* untampered, the same archive keeps it */
	char idx2[512];
	snprintf(idx2, sizeof idx2, "%s/new.index", root);
	CHECK_EQ_INT(recycle(&st, &a.out, rev, idx2, P("%s/new2.index", root)), 0);
	CHECK_EQ_INT(st.files_written, 0);
	CHECK_EQ_INT(st.files_linked, 1);
	CHECK_EQ_INT(durable, 2); /* nothing changed: the tree's time and the new index */
	oci_buf_dispose(&a.out);
	oci_rmtree(root);
	free(root);
}

/* The fresh extraction's refusals hold against a tree that already has
 * the paths: an entry twice (also one that was kept), a path through a
 * symlink the archive made where the old tree had a directory. */
static void test_recycle_refusals(void)
{
	root = make_tmpdir("recycle-r");
	tar_maker a, twice, through;
	maker_open(&a, 1);
	maker_add(&a, 'f', "d/f.yaml", "f\n", 0644);
	maker_add(&a, 'f', "k.yaml", "k\n", 0644);
	maker_close(&a);
	maker_open(&twice, 1);
	maker_add(&twice, 'f', "k.yaml", "k\n", 0644);
	maker_add(&twice, 'f', "k.yaml", "k\n", 0644);
	maker_close(&twice);
	maker_open(&through, 1);
	maker_add(&through, 'd', "x/", NULL, 0755);
	maker_add(&through, 'l', "d", "x", 0777);
	maker_add(&through, 'f', "d/f.yaml", "f\n", 0644);
	maker_close(&through);
	oci_extract_stats st;
	CHECK_EQ_INT(make_rev(&st, &a.out), 0);
	CHECK_EQ_INT(recycle(&st, &twice.out, rev, idx, NULL), OCI_EUNSAFE);
	CHECK_ERR_CONTAINS("entry 'k.yaml' appears twice in the archive");
	oci_rmtree(rev);
	CHECK_EQ_INT(make_rev(&st, &a.out), 0);
	CHECK_EQ_INT(recycle(&st, &through.out, rev, idx, NULL), OCI_EUNSAFE);
	CHECK_ERR_CONTAINS("entry 'd/f.yaml' goes through the symlink 'd'");
	CHECK(!exists(P("%s/x/f.yaml", rev)));
	oci_buf_dispose(&a.out);
	oci_buf_dispose(&twice.out);
	oci_buf_dispose(&through.out);
	oci_rmtree(root);
	free(root);
}

/* 400 files in 20 directories; changed: the file f (NULL: none) or, with
 * all, every file. */
static void make_grid(tar_maker *m, const char *changed, int all, const char *extra)
{
	maker_open(m, 1);
	for (int d = 0; d < 20; d++)
		for (int f = 0; f < 20; f++) {
			char path[64];
			snprintf(path, sizeof path, "d%02d/f%02d.yaml", d, f);
			if (extra && !strcmp(path, "d19/f19.yaml"))
				continue; /* a stray of the recycled tree */
			maker_add(m, 'f', path, all || (changed && !strcmp(path, changed)) ? "new\n" : "old\n", 0644);
		}
	if (extra)
		maker_add(m, 'f', extra, "extra\n", 0644);
	maker_close(m);
}

/* A recycle fsyncs exactly what it changed (the caller's syncfs is left
 * out then), and leaves a large change to the caller's syncfs. */
static void test_recycle_durable(void)
{
	root = make_tmpdir("recycle-d");
	tar_maker a, one, moved, all;
	make_grid(&a, NULL, 0, NULL);
	make_grid(&one, "d05/f07.yaml", 0, NULL);
	make_grid(&moved, "d05/f07.yaml", 0, "n/m/new.yaml");
	make_grid(&all, NULL, 1, NULL);
	oci_extract_stats st;
	char idx2[512], idx3[512];
	snprintf(idx2, sizeof idx2, "%s/2.index", root);
	snprintf(idx3, sizeof idx3, "%s/3.index", root);
	CHECK_EQ_INT(make_rev(&st, &a.out), 0);
	/* one file: it, its directory, the tree's root, the index */
	CHECK_EQ_INT(recycle(&st, &one.out, rev, idx, idx2), 0);
	CHECK_EQ_INT(st.files_written, 1);
	CHECK_EQ_INT(durable, 4);
	/* a file in two new directories (each and its parent) and a stray
	 * swept from d19: n/m/new.yaml, n/m, n, d19, the root, the index */
	CHECK_EQ_INT(recycle(&st, &moved.out, rev, idx2, idx3), 0);
	CHECK_EQ_INT(st.files_written, 1);
	CHECK(!exists(P("%s/d19/f19.yaml", rev)));
	CHECK_EQ_INT(durable, 6);
	/* 399 files written (d05/f07.yaml was new already): the caller
	 * syncs the filesystem instead */
	CHECK_EQ_INT(recycle(&st, &all.out, rev, idx3, NULL), 0);
	CHECK_EQ_INT(st.files_written, 399);
	CHECK_EQ_INT(durable, -1);
	oci_buf_dispose(&a.out);
	oci_buf_dispose(&one.out);
	oci_buf_dispose(&moved.out);
	oci_buf_dispose(&all.out);
	oci_rmtree(root);
	free(root);
}

int main(void)
{
	RUN(test_recycle_equals_fresh);
	RUN(test_recycle_tampered);
	RUN(test_recycle_refusals);
	RUN(test_recycle_durable);
	TEST_END();
}
