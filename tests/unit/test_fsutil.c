/* Working under a directory descriptor without following symlinks
 * (openat2 and its fallback), removing trees and symlinks as themselves,
 * and sweeping the temporaries of dead processes. */
#include "test.h"
#include "oci/oci.h"
#include "extract_internal.h"
#include "fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static int exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static void setup(void)
{
	char p[512];
	snprintf(dir, sizeof dir, "%s/ocisync-fsutil-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		abort();
	snprintf(p, sizeof p, "%s/a", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/a/b", dir);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/outside", dir);
	mkdir(p, 0755);
	put("a/b/f", "inside\n");
	put("outside/secret", "outside\n");
	snprintf(p, sizeof p, "%s/outside", dir);
	char l[512];
	snprintf(l, sizeof l, "%s/a/link", dir);
	CHECK(symlink(p, l) == 0);          /* a/link -> outside (absolute) */
	snprintf(l, sizeof l, "%s/a/b/up", dir);
	CHECK(symlink("../../outside/secret", l) == 0); /* a/b/up -> ../../outside/secret */
}

/* The same answers with openat2 and with the component walk. */
static void check_beneath(int fallback)
{
	oci__openat2_disable(fallback);
	char p[512];
	snprintf(p, sizeof p, "%s/a", dir);
	int root = open(p, O_RDONLY | O_DIRECTORY);
	CHECK(root >= 0);
	int fd = oci__openat_beneath(root, "b/f", O_RDONLY, 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	fd = oci__openat_beneath(root, "b", O_RDONLY | O_DIRECTORY, 0);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	/* a symlink in the middle, at the end, a way up, an absolute path */
	errno = 0;
	CHECK(oci__openat_beneath(root, "link/secret", O_RDONLY, 0) < 0);
	CHECK(errno == ELOOP || errno == ENOTDIR || errno == EXDEV);
	errno = 0;
	CHECK(oci__openat_beneath(root, "b/up", O_RDONLY, 0) < 0);
	CHECK(errno == ELOOP || errno == EXDEV);
	errno = 0;
	CHECK(oci__openat_beneath(root, "../outside/secret", O_RDONLY, 0) < 0);
	CHECK_EQ_INT(errno, EXDEV);
	errno = 0;
	CHECK(oci__openat_beneath(root, p, O_RDONLY | O_DIRECTORY, 0) < 0);
	CHECK_EQ_INT(errno, EXDEV);
	/* creating under it, never through a symlink */
	fd = oci__openat_beneath(root, "b/new", O_WRONLY | O_CREAT | O_EXCL, 0644);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK(exists("a/b/new"));
	unlinkat(root, "b/new", 0);
	CHECK(oci__openat_beneath(root, "link/new", O_WRONLY | O_CREAT | O_EXCL, 0644) < 0);
	CHECK(!exists("outside/new"));
	/* oci__open_dir_nofollow names the symlink */
	int out = -1;
	CHECK(oci__open_dir_nofollow(&out, root, "link/x", 1, "link/x/y") < 0);
	CHECK_ERR_CONTAINS("goes through the symlink 'link'");
	CHECK(!exists("outside/x"));
	CHECK(oci__open_dir_nofollow(&out, root, "b/c", 1, "b/c/f") == 0);
	if (out >= 0)
		close(out);
	CHECK(exists("a/b/c"));
	close(root);
	oci__openat2_disable(0);
}

static void test_beneath_openat2(void) { check_beneath(0); }
static void test_beneath_fallback(void) { check_beneath(1); }

static void test_rmtree_at(void)
{
	char p[512];
	snprintf(p, sizeof p, "%s/a", dir);
	int root = open(p, O_RDONLY | O_DIRECTORY);
	/* a symlink to a directory: the link goes, its target stays */
	CHECK_EQ_INT(oci__rmtree_at(root, "link", "a/link"), 0);
	CHECK(!exists("a/link"));
	CHECK(exists("outside/secret"));
	/* a read-only tree goes whole */
	snprintf(p, sizeof p, "%s/a/b", dir);
	chmod(p, 0555);
	CHECK_EQ_INT(oci__rmtree_at(root, "b", "a/b"), 0);
	CHECK(!exists("a/b"));
	CHECK(exists("outside/secret"));
	CHECK_EQ_INT(oci__rmtree_at(root, "missing", "a/missing"), 0);
	close(root);
}

static void test_sweep(void)
{
	pid_t dead = fork();
	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	char name[256];
	snprintf(name, sizeof name, "ocisync-layer-%ld-aaaaaa", (long)dead);
	put(name, "x");
	snprintf(name, sizeof name, "ocisync-layer-%ld-bbbbbb", (long)getppid()); /* running */
	put(name, "x");
	snprintf(name, sizeof name, "ocisync-other-%ld-cccccc", (long)dead);         /* another prefix */
	put(name, "x");
	put("ocisync-layer-notapid-dddddd", "x");
	CHECK_EQ_INT(oci_tmp_sweep(dir, "ocisync-layer"), 1);
	snprintf(name, sizeof name, "ocisync-layer-%ld-aaaaaa", (long)dead);
	CHECK(!exists(name));
	snprintf(name, sizeof name, "ocisync-layer-%ld-bbbbbb", (long)getppid());
	CHECK(exists(name));
	snprintf(name, sizeof name, "ocisync-other-%ld-cccccc", (long)dead);
	CHECK(exists(name));
	CHECK(exists("ocisync-layer-notapid-dddddd"));
}

int main(void)
{
	setup();
	RUN(test_beneath_openat2);
	RUN(test_beneath_fallback);
	RUN(test_rmtree_at);
	RUN(test_sweep);
	oci_rmtree(dir);
	TEST_END();
}
