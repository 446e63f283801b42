/* The streaming linter: files arrive in chunks from the packer's read loop
 * (or from oci_lint_path's own walk) and are parsed on a worker thread, so
 * linting overlaps with tar and gzip instead of adding a second pass.
 *
 * The caller's thread only copies chunks into a bounded queue; the worker
 * pulls them through libyaml's input handler, one parser per file, builds
 * each document's tree (lint_tree.c) and runs the rules (lint_rules.c).
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
#define PATH_CHUNK (256 * 1024)

typedef enum { MSG_BEGIN, MSG_DATA, MSG_END, MSG_QUIT } msg_kind;

typedef struct msg {
	struct msg *next;
	msg_kind kind;
	size_t len, off;
	char data[]; /* BEGIN: the relative path; DATA: the bytes */
} msg;

struct oci_lint {
	const oci_lint_policy *policy;
	pthread_t worker;
	int started;
	pthread_mutex_t mu;
	pthread_cond_t more;   /* a message was queued */
	pthread_cond_t room;   /* the queue shrank */
	msg *head, *tail;
	size_t queued;
	int feeding;           /* the current file is a YAML/JSON one */
	msg *quit;             /* allocated up front: stopping never needs memory */
	int quitting;          /* the worker took QUIT (possibly mid-file) */
	/* the worker's */
	msg *cur;              /* the DATA message being read */
	/* What the last two handler calls gave libyaml, with their place in
	 * the file: libyaml reports an encoding error by byte offset, within
	 * the data it was handed last. */
	struct window {
		char *data;
		size_t len, cap;
		size_t start, lines_before;
	} win[2];
	size_t given, given_lines; /* bytes and newlines given so far */
	int at_end;            /* the handler saw END of the current file */
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

static void enqueue(oci_lint *l, msg *m)
{
	pthread_mutex_lock(&l->mu);
	while (l->queued > QUEUE_MAX_BYTES)
		pthread_cond_wait(&l->room, &l->mu);
	m->next = NULL;
	if (l->tail)
		l->tail->next = m;
	else
		l->head = m;
	l->tail = m;
	l->queued += m->len + sizeof *m;
	pthread_cond_signal(&l->more);
	pthread_mutex_unlock(&l->mu);
}

static msg *dequeue(oci_lint *l)
{
	pthread_mutex_lock(&l->mu);
	while (!l->head)
		pthread_cond_wait(&l->more, &l->mu);
	msg *m = l->head;
	l->head = m->next;
	if (!l->head)
		l->tail = NULL;
	l->queued -= m->len + sizeof *m;
	pthread_cond_signal(&l->room);
	pthread_mutex_unlock(&l->mu);
	return m;
}

static msg *new_msg(msg_kind k, const void *data, size_t len)
{
	msg *m = malloc(sizeof *m + len + 1);
	if (!m)
		return NULL;
	m->kind = k;
	m->len = len;
	m->off = 0;
	if (len)
		memcpy(m->data, data, len);
	m->data[len] = '\0';
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

/* libyaml's input handler: the current file's DATA messages, then EOF at
 * its END. */
/* Keeps a copy of what was just handed to libyaml (see oci_lint.win). */
static int remember_window(oci_lint *l, const unsigned char *buf, size_t n)
{
	struct window t = l->win[1];
	l->win[1] = l->win[0];
	l->win[0] = t;
	struct window *w = &l->win[0];
	if (n > w->cap) {
		char *d = realloc(w->data, n);
		if (!d)
			return -1;
		w->data = d;
		w->cap = n;
	}
	memcpy(w->data, buf, n);
	w->len = n;
	w->start = l->given;
	w->lines_before = l->given_lines;
	l->given += n;
	for (const unsigned char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
		l->given_lines++;
	return 0;
}

/* libyaml's input handler: the current file's DATA messages, then EOF at
 * its END. Each call is filled as far as libyaml asks (across messages),
 * so what libyaml sees -- and so which error it reports first, since its
 * reader checks encoding ahead of the scanner -- does not depend on how the
 * caller cut the file into chunks. */
static int read_handler(void *ud, unsigned char *buf, size_t size, size_t *size_read)
{
	oci_lint *l = ud;
	*size_read = 0;
	while (*size_read < size && !l->at_end) {
		if (!l->cur) {
			msg *m = dequeue(l);
			if (m->kind == MSG_END || m->kind == MSG_QUIT) {
				/* QUIT mid-file: the packer stopped before the file's end */
				l->quitting |= m->kind == MSG_QUIT;
				free(m);
				l->at_end = 1;
				break;
			}
			l->cur = m;
		}
		size_t n = l->cur->len - l->cur->off;
		if (n > size - *size_read)
			n = size - *size_read;
		if (l->guard.since_event + n > OCI_LINT_MAX_DOCUMENT) {
			l->guard.over = 1;
			return 0;
		}
		memcpy(buf + *size_read, l->cur->data + l->cur->off, n);
		l->cur->off += n;
		l->guard.since_event += n;
		*size_read += n;
		if (l->cur->off == l->cur->len) {
			free(l->cur);
			l->cur = NULL;
		}
	}
	if (*size_read && remember_window(l, buf, *size_read) < 0)
		return 0;
	return 1;
}

/* The line of a byte offset libyaml reported (an encoding error). */
static int line_at(void *ud, size_t offset)
{
	oci_lint *l = ud;
	for (int i = 0; i < 2; i++) {
		const struct window *w = &l->win[i];
		if (offset < w->start || offset >= w->start + w->len)
			continue;
		size_t nl = w->lines_before;
		for (size_t k = 0; k < offset - w->start; k++)
			nl += w->data[k] == '\n';
		return (int)nl + 1;
	}
	return (int)l->given_lines + 1; /* past what was read: the end */
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

/* Parses one file whose BEGIN was just taken; consumes through its END. */
static void lint_one_file(oci_lint *l, const char *rel)
{
	yaml_parser_t p;
	l->cur = NULL;
	l->at_end = 0;
	memset(&l->guard, 0, sizeof l->guard);
	l->guard.line_at = line_at;
	l->guard.line_ctx = l;
	l->given = l->given_lines = 0;
	l->win[0].len = l->win[1].len = 0;
	l->win[0].start = l->win[1].start = 0;
	int skip = lint_policy_path_allowed(l->policy, rel);
	if (!skip && !yaml_parser_initialize(&p)) {
		l->failed = OCI_ENOMEM;
		skip = 1;
	}
	if (!skip) {
		yaml_parser_set_input(&p, read_handler, l);
		lint_sink sink = { l->policy, rel, 0, sink_add, l };
		l->rep.files++;
		for (int doc = 1;; doc++) {
			lint_node *root = NULL;
			lint_arena *arena = NULL;
			const char *why = NULL;
			int line = 0;
			lint_doc_status st = lint_read_document(&root, &arena, &p, &l->guard, &why, &line);
			int rc = 0;
			if (st == LINT_DOC_OK) {
				l->rep.documents++;
				sink.document = doc;
				size_t first = l->rep.n;
				rc = lint_check_document(&sink, root);
				if (l->rep.n > first)
					sort_by_line(l->rep.items + first, l->rep.n - first);
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
	free(l->cur);
	l->cur = NULL;
	while (!l->at_end) {
		msg *m = dequeue(l);
		l->quitting |= m->kind == MSG_QUIT;
		l->at_end = m->kind == MSG_END || m->kind == MSG_QUIT;
		free(m);
	}
}

static void *worker_main(void *ud)
{
	oci_lint *l = ud;
	for (;;) {
		msg *m = dequeue(l);
		if (m->kind == MSG_QUIT) {
			free(m);
			return NULL;
		}
		if (m->kind == MSG_BEGIN)
			lint_one_file(l, m->data);
		free(m);
		if (l->quitting)
			return NULL;
	}
}

/* --- the caller's side --- */

int oci_lint_new(oci_lint **out, const oci_lint_policy *policy)
{
	*out = NULL;
	oci_lint *l = calloc(1, sizeof *l);
	if (!l)
		return OCI_ENOMEM_SET();
	l->policy = policy;
	if (!(l->quit = new_msg(MSG_QUIT, NULL, 0))) {
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

int oci_lint_feed(void *ctx, const char *rel, oci_pack_file_event ev, const void *data, size_t len)
{
	oci_lint *l = ctx;
	msg *m;
	switch (ev) {
	case OCI_PACK_FILE_BEGIN:
		if (!(l->feeding = is_lintable(rel)))
			return 0;
		m = new_msg(MSG_BEGIN, rel, strlen(rel));
		break;
	case OCI_PACK_FILE_DATA:
		if (!l->feeding || !len)
			return 0;
		m = new_msg(MSG_DATA, data, len);
		break;
	default:
		if (!l->feeding)
			return 0;
		l->feeding = 0;
		m = new_msg(MSG_END, NULL, 0);
		break;
	}
	if (!m)
		return OCI_ENOMEM_SET(); /* the pack stops; QUIT (allocated up front) ends the worker */
	enqueue(l, m);
	return 0;
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
	free(l->quit);
	free(l->win[0].data);
	free(l->win[1].data);
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
