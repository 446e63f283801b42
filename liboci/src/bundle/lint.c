/* The streaming linter: files arrive in chunks from the packer's read loop
 * (or from oci_lint_path's own walk) and are parsed on a worker thread, so
 * linting overlaps with tar and gzip instead of adding a second pass.
 *
 * The caller's thread only copies chunks into a bounded queue; the worker
 * pulls them through libyaml's input handler, one parser per file, builds
 * each document's tree (lint_tree.c) and runs the rules (lint_rules.c).
 * A file that no enabled rule can match (needs_no_tree) is only
 * syntax-checked, without a tree.
 * The worker never touches the thread-local error state: it keeps its own
 * failure code, which oci_lint_finish reports in the caller's thread. */
#include "oci/lint.h"
#include "lint_internal.h"
#include "bundle_internal.h"
#include "error_internal.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define QUEUE_MAX_BYTES (4 * 1024 * 1024)
#define WAKE_BYTES (64 * 1024) /* a sleeping worker is woken for this much */
#define PATH_CHUNK (256 * 1024)

/* A message is a run of one file's bytes. A small file travels as one
 * message (BEGIN and END on the same one), so the queue costs one
 * allocation and one lock per file, not three. */
enum { MSG_BEGIN = 1, MSG_END = 2, MSG_QUIT = 4 };

typedef struct msg {
	struct msg *next;
	unsigned flags;
	size_t size;              /* counted against QUEUE_MAX_BYTES */
	const char *bytes;        /* the file's bytes (after a BEGIN's path) */
	size_t len, off;
	size_t start;             /* the worker's: where bytes[0] is in the file */
	char data[];              /* BEGIN: the relative path and its NUL; then the bytes */
} msg;

struct oci_lint {
	const oci_lint_policy *policy;
	pthread_t worker;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t more;   /* WAKE_BYTES were queued, or QUIT */
	pthread_cond_t room;   /* the worker gave memory back */
	msg *head, *tail;      /* queued, not yet taken by the worker */
	size_t queued;         /* bytes of every message not yet freed */
	size_t pending;        /* bytes in head..tail */
	int worker_idle, feeder_waiting;
	msg *quit;             /* allocated up front: stopping never needs memory */
	/* the feeder's */
	int feeding;           /* the current file is a YAML/JSON one */
	int begun;             /* its BEGIN was made */
	msg *held;             /* its last message, held back in case END follows */
	char *path;            /* its relative path */
	size_t path_cap;
	/* the worker's */
	int quitting;          /* the worker took QUIT (possibly mid-file) */
	msg *taken;            /* taken from the queue, not yet read */
	size_t released;       /* bytes freed since the worker last took the lock */
	char *file;            /* the current file's path (its BEGIN is freed early) */
	size_t file_cap;
	msg *cur;              /* the message being read */
	/* Messages already read that still hold bytes of the last two handler
	 * calls: libyaml reports an encoding error by byte offset, within the
	 * data it was handed last (line_at). */
	msg *read_head, *read_tail;
	size_t calls[2];       /* where the last two handler calls started */
	size_t taken_bytes;    /* of the current file, up to the end of cur */
	size_t forgot_lines;   /* newlines in the messages forget_read freed */
	int at_end;            /* the handler saw END of the current file */
	const char *tree_unless_absent[LINT_RULE_COUNT + 2]; /* plan_needles */
	lint_input_guard guard;
	oci_lint_report rep;
	size_t cap;
	int failed;            /* OCI_ENOMEM when the worker ran out of memory */
};

static int is_lintable(const char *rel)
{
	size_t l = strlen(rel);
	return (l > 5 && !strcmp(rel + l - 5, ".yaml")) || (l > 4 && !strcmp(rel + l - 4, ".yml")) ||
	       (l > 5 && !strcmp(rel + l - 5, ".json"));
}

static void append(msg **head, msg **tail, msg *m)
{
	m->next = NULL;
	if (*tail)
		(*tail)->next = m;
	else
		*head = m;
	*tail = m;
}

/* The worker sleeps until WAKE_BYTES are queued (or QUIT), so a file does
 * not cost a wake-up: it takes the whole queue at once. */
static void enqueue(oci_lint *l, msg *m)
{
	pthread_mutex_lock(&l->mu);
	while (l->queued > QUEUE_MAX_BYTES) {
		if (l->worker_idle)
			pthread_cond_signal(&l->more);
		l->feeder_waiting = 1;
		pthread_cond_wait(&l->room, &l->mu);
		l->feeder_waiting = 0;
	}
	append(&l->head, &l->tail, m);
	l->queued += m->size;
	l->pending += m->size;
	if (l->worker_idle && (l->pending >= WAKE_BYTES || (m->flags & MSG_QUIT)))
		pthread_cond_signal(&l->more);
	pthread_mutex_unlock(&l->mu);
}

static msg *dequeue(oci_lint *l)
{
	if (!l->taken) {
		pthread_mutex_lock(&l->mu);
		l->queued -= l->released;
		l->released = 0;
		if (l->feeder_waiting)
			pthread_cond_signal(&l->room);
		while (!l->head) {
			l->worker_idle = 1;
			pthread_cond_wait(&l->more, &l->mu);
			l->worker_idle = 0;
		}
		l->taken = l->head;
		l->head = l->tail = NULL;
		l->pending = 0;
		pthread_mutex_unlock(&l->mu);
	}
	msg *m = l->taken;
	l->taken = m->next;
	return m;
}

/* The worker is done with m; its bytes go back at the next dequeue. */
static void release(oci_lint *l, msg *m)
{
	if (!m)
		return;
	l->released += m->size;
	free(m);
}

/* path (BEGIN only) then len bytes. */
static msg *new_msg(unsigned flags, const char *path, const void *data, size_t len)
{
	size_t plen = path ? strlen(path) + 1 : 0;
	msg *m = malloc(sizeof *m + plen + len + 1);
	if (!m)
		return NULL;
	m->flags = flags;
	m->size = sizeof *m + plen + len + 1;
	if (plen)
		memcpy(m->data, path, plen);
	m->bytes = m->data + plen;
	m->len = len;
	m->off = 0;
	if (len)
		memcpy(m->data + plen, data, len);
	m->data[plen + len] = '\0'; /* for needs_no_tree's strstr */
	return m;
}

/* --- the worker --- */

static int add_finding(oci_lint *l, const char *rule, oci_lint_severity sev, const char *file, int line,
		       int document, const char *message)
{
	oci_lint_report *r = &l->rep;
	if (r->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		oci_lint_finding *p = realloc(r->items, cap * sizeof *p);
		if (!p)
			return OCI_ENOMEM;
		r->items = p;
		l->cap = cap;
	}
	oci_lint_finding *f = &r->items[r->n];
	f->rule = rule;
	f->severity = sev;
	f->line = line;
	f->document = document;
	f->file = strdup(file);
	f->message = strdup(message);
	if (!f->file || !f->message) {
		free(f->file);
		free(f->message);
		return OCI_ENOMEM;
	}
	r->n++;
	if (sev == OCI_LINT_ERROR)
		r->errors++;
	else
		r->warnings++;
	return 0;
}

static int sink_add(lint_sink *s, lint_rule rule, int line, const char *message)
{
	oci_lint_severity sev = lint_policy_severity(s->policy, rule);
	if (sev == OCI_LINT_OFF)
		return 0;
	return add_finding(s->ctx, oci_lint_rules()[rule].id, sev, s->file, line, s->document, message);
}

static size_t count_lines(const char *b, size_t n)
{
	size_t nl = 0;
	for (const char *e = b + n; (b = memchr(b, '\n', (size_t)(e - b))); b++)
		nl++;
	return nl;
}

/* Makes m the message being read. */
static void take_cur(oci_lint *l, msg *m)
{
	m->start = l->taken_bytes;
	l->taken_bytes += m->len;
	l->cur = m;
}

/* cur has been read: kept while it holds bytes of the last two handler
 * calls (forget_read drops it after). Its END ends the file. */
static void done_cur(oci_lint *l)
{
	msg *m = l->cur;
	l->cur = NULL;
	l->at_end |= (m->flags & MSG_END) != 0;
	append(&l->read_head, &l->read_tail, m);
}

/* Frees the read messages that end before `before`, keeping count of
 * their lines for line_at (all, uncounted, with SIZE_MAX at a file's end).
 * A file that came in one message is never counted. */
static void forget_read(oci_lint *l, size_t before)
{
	while (l->read_head && (before == SIZE_MAX || l->read_head->start + l->read_head->len <= before)) {
		msg *m = l->read_head;
		l->read_head = m->next;
		if (!l->read_head)
			l->read_tail = NULL;
		if (before != SIZE_MAX)
			l->forgot_lines += count_lines(m->bytes, m->len);
		release(l, m);
	}
}

/* libyaml's input handler: the current file's messages until its END.
 * Each call is filled as far as libyaml asks (across messages), so what
 * libyaml sees -- and so which error it reports first, since its reader
 * checks encoding ahead of the scanner -- does not depend on how the
 * caller cut the file into chunks. */
static int read_handler(void *ud, unsigned char *buf, size_t size, size_t *size_read)
{
	oci_lint *l = ud;
	*size_read = 0;
	size_t call_start = l->cur ? l->cur->start + l->cur->off : l->taken_bytes;
	while (*size_read < size && !l->at_end) {
		if (!l->cur) {
			msg *m = dequeue(l);
			if (m->flags & MSG_QUIT) {
				/* QUIT mid-file: the packer stopped before the file's end */
				l->quitting = 1;
				free(m);
				l->at_end = 1;
				break;
			}
			take_cur(l, m);
		}
		size_t n = l->cur->len - l->cur->off;
		if (n > size - *size_read)
			n = size - *size_read;
		if (l->guard.since_event + n > OCI_LINT_MAX_DOCUMENT) {
			l->guard.over = 1;
			return 0;
		}
		memcpy(buf + *size_read, l->cur->bytes + l->cur->off, n);
		l->cur->off += n;
		l->guard.since_event += n;
		*size_read += n;
		if (l->cur->off == l->cur->len)
			done_cur(l);
	}
	if (*size_read) {
		l->calls[1] = l->calls[0];
		l->calls[0] = call_start;
		forget_read(l, l->calls[1]);
	}
	return 1;
}

/* The line of a byte offset libyaml reported (an encoding error): found
 * in the bytes of the last two handler calls, else the end of what
 * libyaml was given. */
static int line_at(void *ud, size_t offset)
{
	oci_lint *l = ud;
	size_t nl = l->forgot_lines;
	for (const msg *m = l->read_head;; m = m->next) {
		const msg *w = m ? m : l->cur; /* the read messages, then cur */
		if (!w)
			break;
		size_t given = m ? w->len : w->off;
		if (offset >= l->calls[1] && offset >= w->start && offset < w->start + given)
			return (int)(nl + count_lines(w->bytes, offset - w->start)) + 1;
		nl += count_lines(w->bytes, given);
		if (!m)
			break;
	}
	return (int)nl + 1;
}

/* Rules report in the order they run; a reader wants a document's
 * findings by line. Stable (insertion sort: a document has few). */
static void sort_by_line(oci_lint_finding *f, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		oci_lint_finding x = f[i];
		size_t j = i;
		for (; j > 0 && f[j - 1].line > x.line; j--)
			f[j] = f[j - 1];
		f[j] = x;
	}
}

/* 1 when no enabled rule can match the file, so a syntax check without a
 * tree gives the same findings. Every rule that can fire names a key or
 * a kind ("image", "Secret", ...) that the bytes must then hold as such:
 * YAML can spell a scalar differently only with an escape (a backslash in
 * a double-quoted scalar or JSON string) or in UTF-16, which libyaml
 * decodes when the file starts with its byte-order mark. Only a file that
 * arrived whole in one message is looked at. */
static int needs_no_tree(const oci_lint *l, const msg *m)
{
	if (!l->tree_unless_absent[0] || !(m->flags & MSG_END))
		return 0;
	const unsigned char *b = (const unsigned char *)m->bytes;
	if (m->len >= 2 && ((b[0] == 0xFE && b[1] == 0xFF) || (b[0] == 0xFF && b[1] == 0xFE)))
		return 0;
	/* a NUL would hide the rest from strstr (libc's is much faster than memmem) */
	if (memchr(b, '\\', m->len) || memchr(b, '\0', m->len))
		return 0;
	for (const char *const *n = l->tree_unless_absent + 1; *n; n++)
		if (strstr(m->bytes, *n))
			return 0;
	return 1;
}

/* Parses one file from its first message (BEGIN, now the worker's);
 * consumes through its END. */
static void lint_one_file(oci_lint *l, msg *first)
{
	yaml_parser_t p;
	l->cur = NULL;
	l->at_end = 0;
	memset(&l->guard, 0, sizeof l->guard);
	l->guard.line_at = line_at;
	l->guard.line_ctx = l;
	l->taken_bytes = l->forgot_lines = 0;
	l->calls[0] = l->calls[1] = 0;
	take_cur(l, first);
	/* the path lives in the first message, which is freed once read */
	size_t plen = strlen(first->data) + 1;
	int skip = 0;
	if (plen > l->file_cap) {
		char *f = realloc(l->file, plen);
		if (!f) {
			l->failed = OCI_ENOMEM;
			skip = 1;
		} else {
			l->file = f;
			l->file_cap = plen;
		}
	}
	if (!skip) {
		memcpy(l->file, first->data, plen);
		skip = lint_policy_path_allowed(l->policy, l->file);
	}
	if (!skip && !yaml_parser_initialize(&p)) {
		l->failed = OCI_ENOMEM;
		skip = 1;
	}
	if (!skip) {
		int build = !needs_no_tree(l, first);
		yaml_parser_set_input(&p, read_handler, l);
		lint_sink sink = { l->policy, l->file, 0, sink_add, l };
		l->rep.files++;
		for (int doc = 1;; doc++) {
			lint_node *root = NULL;
			lint_arena *arena = NULL;
			const char *why = NULL;
			int line = 0;
			lint_doc_status st = lint_read_document(&root, &arena, &p, &l->guard, build, &why, &line);
			int rc = 0;
			if (st == LINT_DOC_OK) {
				l->rep.documents++;
				sink.document = doc;
				size_t first_finding = l->rep.n;
				if (build)
					rc = lint_check_document(&sink, root);
				if (l->rep.n > first_finding)
					sort_by_line(l->rep.items + first_finding, l->rep.n - first_finding);
			} else if (st == LINT_DOC_SYNTAX || st == LINT_DOC_LIMIT) {
				char message[512];
				snprintf(message, sizeof message, st == LINT_DOC_SYNTAX ? "not valid YAML: %s" : "document %s",
					 why);
				sink.document = doc;
				rc = sink_add(&sink, st == LINT_DOC_SYNTAX ? LINT_RULE_INVALID_YAML : LINT_RULE_LIMIT,
					      line > 0 ? line : 1, message);
			} else if (st == LINT_DOC_NOMEM) {
				rc = OCI_ENOMEM;
			}
			lint_arena_free(arena);
			if (rc)
				l->failed = rc;
			if (st != LINT_DOC_OK || rc)
				break;
		}
		yaml_parser_delete(&p);
	}
	/* whatever the parser left unread */
	if (l->cur)
		done_cur(l);
	while (!l->at_end) {
		msg *m = dequeue(l);
		if (m->flags & MSG_QUIT) {
			l->quitting = 1;
			l->at_end = 1;
		} else {
			l->at_end = (m->flags & MSG_END) != 0;
		}
		release(l, m);
	}
	forget_read(l, SIZE_MAX);
}

static void *worker_main(void *ud)
{
	oci_lint *l = ud;
	for (;;) {
		msg *m = dequeue(l);
		if (m->flags & MSG_QUIT) {
			free(m);
			return NULL;
		}
		if (m->flags & MSG_BEGIN)
			lint_one_file(l, m); /* frees m */
		else
			release(l, m);
		if (l->quitting)
			return NULL;
	}
}

/* --- the caller's side --- */

/* Fills l->tree_unless_absent: [0] non-NULL when some files can skip the
 * tree, then what the enabled rules look for. A rule not listed here
 * (namespace-missing: every object) needs the tree for every file. */
static void plan_needles(oci_lint *l)
{
	static const char *const key[LINT_RULE_COUNT] = {
		[LINT_RULE_IMAGE_UNPINNED] = "image",
		[LINT_RULE_PLAINTEXT_SECRET] = "Secret",
		[LINT_RULE_PRIVILEGED] = "privileged",
		[LINT_RULE_HOST_PATH] = "hostPath",
	};
	size_t n = 1;
	for (int r = 0; r < LINT_RULE_COUNT; r++) {
		if (r == LINT_RULE_INVALID_YAML || r == LINT_RULE_LIMIT ||
		    lint_policy_severity(l->policy, (lint_rule)r) == OCI_LINT_OFF)
			continue; /* found without a tree, or not looked for */
		if (!key[r]) {
			l->tree_unless_absent[0] = NULL;
			return;
		}
		l->tree_unless_absent[n++] = key[r];
	}
	l->tree_unless_absent[0] = "";
	l->tree_unless_absent[n] = NULL;
}

int oci_lint_new(oci_lint **out, const oci_lint_policy *policy)
{
	*out = NULL;
	oci_lint *l = calloc(1, sizeof *l);
	if (!l)
		return OCI_ENOMEM_SET();
	l->policy = policy;
	plan_needles(l);
	if (!(l->quit = new_msg(MSG_QUIT, NULL, NULL, 0))) {
		free(l);
		return OCI_ENOMEM_SET();
	}
	pthread_mutex_init(&l->mu, NULL);
	pthread_cond_init(&l->more, NULL);
	pthread_cond_init(&l->room, NULL);
	if (pthread_create(&l->worker, NULL, worker_main, l) != 0) {
		oci_lint_free(l);
		return oci_error_set(OCI_ERROR, "starting the lint thread failed");
	}
	l->started = 1;
	*out = l;
	return 0;
}

/* A file's bytes go out one message behind, so that its END rides on the
 * last one: a file read in one chunk is one message. */
int oci_lint_feed(void *ctx, const char *rel, oci_pack_file_event ev, const void *data, size_t len)
{
	oci_lint *l = ctx;
	msg *m;
	switch (ev) {
	case OCI_PACK_FILE_BEGIN: {
		if (!(l->feeding = is_lintable(rel)))
			return 0;
		size_t n = strlen(rel) + 1;
		if (n > l->path_cap) {
			char *p = realloc(l->path, n);
			if (!p) {
				l->feeding = 0;
				return OCI_ENOMEM_SET();
			}
			l->path = p;
			l->path_cap = n;
		}
		memcpy(l->path, rel, n);
		l->begun = 0;
		return 0;
	}
	case OCI_PACK_FILE_DATA:
		if (!l->feeding || !len)
			return 0;
		if (!(m = new_msg(l->begun ? 0 : MSG_BEGIN, l->begun ? NULL : l->path, data, len)))
			break;
		l->begun = 1;
		if (l->held)
			enqueue(l, l->held);
		l->held = m;
		return 0;
	default:
		if (!l->feeding)
			return 0;
		l->feeding = 0;
		if ((m = l->held)) {
			l->held = NULL;
			m->flags |= MSG_END;
		} else {
			m = new_msg(MSG_END | (l->begun ? 0 : MSG_BEGIN), l->begun ? NULL : l->path, NULL, 0);
		}
		if (!m)
			break;
		enqueue(l, m);
		return 0;
	}
	return OCI_ENOMEM_SET(); /* the pack stops; QUIT (allocated up front) ends the worker */
}

static void stop_worker(oci_lint *l)
{
	if (!l->started)
		return;
	l->started = 0;
	enqueue(l, l->quit);
	l->quit = NULL;
	pthread_join(l->worker, NULL);
}

int oci_lint_finish(oci_lint_report *out, oci_lint *l)
{
	memset(out, 0, sizeof *out);
	stop_worker(l);
	if (l->failed)
		return OCI_ENOMEM_SET();
	*out = l->rep;
	memset(&l->rep, 0, sizeof l->rep);
	l->cap = 0;
	return 0;
}

void oci_lint_free(oci_lint *l)
{
	if (!l)
		return;
	stop_worker(l);
	for (msg *m = l->head, *next; m; m = next) {
		next = m->next;
		free(m);
	}
	for (msg *m = l->taken, *next; m; m = next) {
		next = m->next;
		free(m);
	}
	free(l->held);
	free(l->quit);
	free(l->path);
	free(l->file);
	oci_lint_report_dispose(&l->rep);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->more);
	pthread_cond_destroy(&l->room);
	free(l);
}

void oci_lint_report_dispose(oci_lint_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->items[i].file);
		free(r->items[i].message);
	}
	free(r->items);
	memset(r, 0, sizeof *r);
}

/* --- lint PATH without packing --- */

typedef struct path_ctx {
	oci_lint *l;
	char *buf;
} path_ctx;

static int path_visit(void *ud, const oci__walk_item *it)
{
	path_ctx *c = ud;
	if (it->type != 'f' || !is_lintable(it->rel))
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
