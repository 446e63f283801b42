/* sync through the library API on an oci-layout target: results, the log
 * and verify callbacks, reuse of a kept revision, the lock. */
#include "test.h"
#include "oci/oci.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/file.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256];

static void write_file(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof p, "%s/%s", dir, rel);
	FILE *f = fopen(p, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

static oci_target *open_ref(const char *suffix)
{
	char s[512];
	snprintf(s, sizeof s, "oci-layout:%s/store%s", dir, suffix);
	oci_ref *r = NULL;
	oci_target *t = NULL;
	CHECK_EQ_INT(oci_ref_parse(&r, s), 0);
	CHECK_EQ_INT(oci_target_open(&t, r, NULL), 0);
	oci_ref_free(r);
	return t;
}

static void push(char digest[OCI_DIGEST_SIZE])
{
	char src[512];
	snprintf(src, sizeof src, "%s/src", dir);
	oci_target *t = open_ref(":prod");
	oci_push_opts po; oci_push_opts_init(&po);
	po.source = "https://git.example/unit";
	po.created = "2024-01-02T03:04:05Z";
	oci_push_result pr;
	CHECK_EQ_INT(oci_push(&pr, t, src, &po), 0);
	snprintf(digest, OCI_DIGEST_SIZE, "%s", pr.digest);
	oci_target_free(t);
}

typedef struct events {
	int info, hook_out;
	char last_hook[256];
	int verify_calls;
	int refuse;
} events;

static void on_log(void *ctx, oci_log_level level, const char *line)
{
	events *e = ctx;
	(void)level;
	(void)line;
	e->info++;
}

static void on_event(void *ctx, const oci_event *ev)
{
	events *e = ctx;
	if (ev->type != OCI_EVENT_HOOK_STDOUT && ev->type != OCI_EVENT_HOOK_STDERR)
		return;
	e->hook_out++;
	snprintf(e->last_hook, sizeof e->last_hook, "%s", ev->line);
}

static int verify(void *ctx, oci_target *t, const char *digest)
{
	events *e = ctx;
	e->verify_calls++;
	return e->refuse ? 1 : 0; /* positive: refused without a message */
}

static void link_hex(char out[80], const char *root)
{
	char p[512];
	snprintf(p, sizeof p, "%s/current", root);
	ssize_t n = readlink(p, out, 79);
	out[n > 0 ? n : 0] = '\0';
}

static void test_once(void)
{
	char d1[OCI_DIGEST_SIZE], d2[OCI_DIGEST_SIZE], root[512], want[128], got[80], p[600];
	write_file("src/a.yaml", "a: 1\n");
	write_file("src/b.yaml", "b: 1\n");
	push(d1);
	snprintf(root, sizeof root, "%s/root", dir);
	events ev = { 0 };
	oci_sync_opts o; oci_sync_opts_init(&o);
	o.root = root;
	o.exec = "echo \"$OCISYNC_DIGEST\"";
	o.callbacks.log = on_log;
	o.callbacks.event = on_event;
	o.callbacks.payload = &ev;
	o.verify = verify;
	o.verify_ctx = &ev;
	oci_sync_result *r = calloc(1, sizeof *r);
	oci_target *t = open_ref(":prod");

	CHECK_EQ_INT(oci_sync_once(r, t, &o), 0);
	CHECK_EQ_INT(r->status, OCI_SYNC_SYNCED);
	CHECK_STR(r->digest, d1);
	CHECK_STR(r->previous_digest, "");
	CHECK_STR(r->tag, "prod");
	CHECK_EQ_INT(r->hook_ran, 1);
	CHECK_EQ_INT(r->hook_exit, 0);
	CHECK_STR(ev.last_hook, d1);
	CHECK_EQ_INT(r->stats.files_written, 2);
	CHECK_EQ_INT(ev.verify_calls, 1);
	link_hex(got, root);
	snprintf(want, sizeof want, ".revisions/%s", d1 + 7);
	CHECK_STR(got, want);

	CHECK_EQ_INT(oci_sync_once(r, t, &o), 0);
	CHECK_EQ_INT(r->status, OCI_SYNC_UNCHANGED);
	CHECK_EQ_INT(r->hook_ran, 0);
	CHECK_EQ_INT(ev.verify_calls, 1); /* nothing fetched, nothing verified */

	/* a refused digest: nothing extracted, the link stays */
	write_file("src/b.yaml", "b: 2\n");
	push(d2);
	ev.refuse = 1;
	CHECK_EQ_INT(oci_sync_once(r, t, &o), OCI_EVERIFY);
	CHECK_EQ_INT(r->status, OCI_SYNC_ERROR);
	CHECK_EQ_INT(r->error_code, OCI_EVERIFY);
	CHECK(strstr(r->error, d2 + 7) != NULL);
	CHECK_ERR_CONTAINS("signature verification");
	link_hex(got, root);
	CHECK_STR(got, want);
	snprintf(p, sizeof p, "%s/.revisions/%s", root, d2 + 7);
	CHECK(access(p, F_OK) != 0);

	/* accepted: incremental, one file written, one hard-linked */
	ev.refuse = 0;
	CHECK_EQ_INT(oci_sync_once(r, t, &o), 0);
	CHECK_EQ_INT(r->status, OCI_SYNC_SYNCED);
	CHECK_STR(r->previous_digest, d1);
	CHECK_EQ_INT(r->stats.files_written, 1);
	CHECK_EQ_INT(r->stats.files_linked, 1);
	CHECK_EQ_INT(r->reused_revision, 0);

	/* while another process holds the lock: OCI_ELOCKED, nothing written */
	snprintf(p, sizeof p, "%s/.lock", root);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(p, O_RDWR);
		flock(fd, LOCK_EX);
		sleep(3);
		_exit(0);
	}
	sleep(1);
	snprintf(p, sizeof p, "%s/.state.json", root);
	struct stat before, after;
	stat(p, &before);
	CHECK_EQ_INT(oci_sync_once(r, t, &o), OCI_ELOCKED);
	CHECK_ERR_CONTAINS("another ocisync sync holds");
	stat(p, &after);
	CHECK_EQ_INT(before.st_ino, after.st_ino);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	/* the tag moves back to the kept revision: published again without
	 * extraction, verified again */
	oci_target *tt = open_ref("");
	CHECK_EQ_INT(oci_target_tag(tt, d1, "prod"), 0);
	oci_target_free(tt);
	int calls = ev.verify_calls;
	CHECK_EQ_INT(oci_sync_once(r, t, &o), 0);
	CHECK_EQ_INT(r->status, OCI_SYNC_SYNCED);
	CHECK_EQ_INT(r->reused_revision, 1);
	CHECK_EQ_INT(ev.verify_calls, calls + 1);
	link_hex(got, root);
	CHECK_STR(got, want);

	/* bad options */
	oci_sync_opts bad = o;
	bad.link = "../escape";
	CHECK_EQ_INT(oci_sync_once(r, t, &bad), OCI_EINVALID);
	CHECK_ERR_CONTAINS("link name '../escape'");
	bad = o;
	bad.root = NULL;
	CHECK_EQ_INT(oci_sync_once(r, t, &bad), OCI_EINVALID);
	oci_target_free(t);
	free(r);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/test_sync_once.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	char p[512];
	snprintf(p, sizeof p, "%s/src", dir);
	mkdir(p, 0755);
	oci_init();
	RUN(test_once);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "chmod -R u+w '%s'; rm -rf '%s'", dir, dir);
	if (system(cmd) != 0)
		return 1;
	TEST_END();
}
