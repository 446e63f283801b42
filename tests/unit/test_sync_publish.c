/* sync: the lock, leftovers, the link swap and pruning. */
#include "test.h"
#include "oci/oci.h"
#include "sync_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char root[256];

static const char *HEX[4] = {
	"1111111111111111111111111111111111111111111111111111111111111111",
	"2222222222222222222222222222222222222222222222222222222222222222",
	"3333333333333333333333333333333333333333333333333333333333333333",
	"4444444444444444444444444444444444444444444444444444444444444444",
};

static int exists(const char *rel)
{
	char p[1024];
	struct stat st;
	snprintf(p, sizeof p, "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void mkrev(const char *hex)
{
	char p[1024];
	snprintf(p, sizeof p, "%s/.revisions/%s", root, hex);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/.revisions/%s/file.yaml", root, hex);
	FILE *f = fopen(p, "w");
	fputs("kind: x\n", f);
	fclose(f);
	chmod(p, 0444);
	snprintf(p, sizeof p, "%s/.revisions/%s.index", root, hex);
	f = fopen(p, "w");
	fputs("x 644 file.yaml\n", f);
	fclose(f);
}

static void test_lock(void)
{
	int fd = -1, fd2 = -1;
	CHECK_EQ_INT(sync_lock_acquire(&fd, root), 0);
	CHECK(fd >= 0);
	/* another process (flock is per open file description: a child with
	 * its own open must be refused) */
	pid_t pid = fork();
	if (pid == 0) {
		int f2;
		int rc = sync_lock_acquire(&f2, root);
		int ok = rc == OCI_ELOCKED && strstr(oci_error_last()->message, "another ocisync sync holds") &&
			 strstr(oci_error_last()->message, "/.lock");
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* the descriptor does not leak into children that exec */
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	sync_lock_release(fd);
	CHECK_EQ_INT(sync_lock_acquire(&fd2, root), 0);
	sync_lock_release(fd2);
	CHECK_EQ_INT(sync_lock_acquire(&fd2, "/nonexistent/root"), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("/nonexistent/root/.lock");
}

static void test_link(void)
{
	char hex[65];
	CHECK_EQ_INT(sync_link_read(hex, root, "current"), 0);
	CHECK_STR(hex, "");
	mkrev(HEX[0]);
	CHECK_EQ_INT(sync_link_swap(root, "current", HEX[0]), 0);
	CHECK_EQ_INT(sync_link_read(hex, root, "current"), 0);
	CHECK_STR(hex, HEX[0]);
	char target[256], p[512];
	snprintf(p, sizeof p, "%s/current", root);
	ssize_t n = readlink(p, target, sizeof target - 1);
	CHECK(n > 0);
	target[n > 0 ? n : 0] = '\0';
	char want[128];
	snprintf(want, sizeof want, ".revisions/%s", HEX[0]);
	CHECK_STR(target, want); /* relative: the root can move or be mounted elsewhere */
	mkrev(HEX[1]);
	CHECK_EQ_INT(sync_link_swap(root, "current", HEX[1]), 0);
	CHECK_EQ_INT(sync_link_read(hex, root, "current"), 0);
	CHECK_STR(hex, HEX[1]);
	snprintf(p, sizeof p, "%s/current/file.yaml", root);
	CHECK_EQ_INT(access(p, R_OK), 0);

	/* not ours: refused with a message naming it */
	snprintf(p, sizeof p, "%s/other", root);
	CHECK_EQ_INT(symlink("/etc", p), 0);
	CHECK_EQ_INT(sync_link_read(hex, root, "other"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not to a revision made by ocisync sync");
	snprintf(p, sizeof p, "%s/plain", root);
	mkdir(p, 0755);
	CHECK_EQ_INT(sync_link_read(hex, root, "plain"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("is not a symlink");
}

/* Both temporary names the atomic writer has used, and nothing else. */
static void test_atomic_tmp_names(void)
{
	CHECK(sync_is_atomic_tmp(".state.json.tmp-6648-4372a8e6", ".state.json"));
	CHECK(sync_is_atomic_tmp(".state.json.tmp.Ab12cD", ".state.json"));
	CHECK(sync_is_atomic_tmp("status.json.tmp-1-00000000", "status.json"));
	CHECK(!sync_is_atomic_tmp(".state.json", ".state.json"));
	CHECK(!sync_is_atomic_tmp(".state.json.tmp-", ".state.json"));
	CHECK(!sync_is_atomic_tmp(".state.json.tmp-12-4372a8e", ".state.json"));
	CHECK(!sync_is_atomic_tmp(".state.json.tmp-12-4372a8eZ", ".state.json"));
	CHECK(!sync_is_atomic_tmp(".state.json.tmp.Ab12c", ".state.json"));
	CHECK(!sync_is_atomic_tmp("other.json.tmp-1-00000000", "status.json"));
}

static void test_leftovers(void)
{
	char p[1024];
	/* what a killed run can leave */
	snprintf(p, sizeof p, "%s/.tmp-link-deadbeef", root);
	CHECK_EQ_INT(symlink(".revisions/x", p), 0);
	snprintf(p, sizeof p, "%s/.state.json.tmp.abcdef", root);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof p, "%s/.revisions/.%s.ocisync-tmp-XyZ123", root, HEX[2]);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/.revisions/.%s.ocisync-tmp-XyZ123/sub", root, HEX[2]);
	mkdir(p, 0555); /* read-only dirs must not stop removal */
	snprintf(p, sizeof p, "%s/.revisions/.%s.ocisync-blob-abc", root, HEX[2]);
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof p, "%s/.revisions/%s.index", root, HEX[3]); /* index without revision */
	close(open(p, O_CREAT | O_WRONLY, 0644));
	snprintf(p, sizeof p, "%s/.revisions/.prune-%s", root, HEX[3]);
	mkdir(p, 0755);
	int n = sync_clean_leftovers(root, NULL);
	CHECK_EQ_INT(n, 6);
	CHECK(!exists(".tmp-link-deadbeef"));
	CHECK(!exists(".state.json.tmp.abcdef"));
	snprintf(p, sizeof p, ".revisions/%s.index", HEX[3]);
	CHECK(!exists(p));
	/* complete revisions, their indexes, the link and the lock stay */
	snprintf(p, sizeof p, ".revisions/%s", HEX[0]);
	CHECK(exists(p));
	snprintf(p, sizeof p, ".revisions/%s.index", HEX[0]);
	CHECK(exists(p));
	CHECK(exists("current"));
	CHECK(exists(".lock"));
	CHECK_EQ_INT(sync_clean_leftovers(root, NULL), 0);
}

static void test_prune(void)
{
	mkrev(HEX[2]);
	mkrev(HEX[3]);
	oci_strlist hist = OCI_STRLIST_INIT;
	/* most recent first: 3 is newest but 1 is current (a rollback) */
	oci_strlist_push(&hist, HEX[1]);
	oci_strlist_push(&hist, HEX[3]);
	oci_strlist_push(&hist, HEX[0]);
	oci_strlist_push(&hist, HEX[2]);
	CHECK_EQ_INT(sync_prune(root, 2, HEX[1], &hist, NULL), 0);
	char p[256];
	for (int i = 0; i < 4; i++) {
		int want = i == 1 || i == 3;
		snprintf(p, sizeof p, ".revisions/%s", HEX[i]);
		CHECK_EQ_INT(exists(p), want);
		snprintf(p, sizeof p, ".revisions/%s.index", HEX[i]);
		CHECK_EQ_INT(exists(p), want);
	}
	/* keep 1: only the current one, even when history disagrees */
	CHECK_EQ_INT(sync_prune(root, 1, HEX[1], &hist, NULL), 0);
	snprintf(p, sizeof p, ".revisions/%s", HEX[1]);
	CHECK(exists(p));
	snprintf(p, sizeof p, ".revisions/%s", HEX[3]);
	CHECK(!exists(p));
	oci_strlist_dispose(&hist);
}

int main(void)
{
	snprintf(root, sizeof root, "/tmp/test_sync_publish.XXXXXX");
	if (!mkdtemp(root))
		return 1;
	char p[512];
	snprintf(p, sizeof p, "%s/.revisions", root);
	mkdir(p, 0755);
	RUN(test_lock);
	RUN(test_link);
	RUN(test_atomic_tmp_names);
	RUN(test_leftovers);
	RUN(test_prune);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", root, root);
	if (system(cmd) != 0)
		return 1;
	TEST_END();
}
