/* The streaming linter's worker thread (see lint.c): takes the queue's
 * messages, feeds each file through libyaml's input handler, builds the
 * part of each document's tree the rules look at (lint_tree.c) and runs
 * the rules (lint_rules.c) into the report. It never touches the
 * thread-local error state: failures go into l->failed, which oci_lint_finish reports in the caller's thread. */
#include "lint_queue.h"
#include "oci/error.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the worker's side of the queue --- */

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

/* --- reading and checking --- */

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
		lint_tree_mode mode = l->full_tree ? LINT_TREE_FULL : LINT_TREE_RULES;
		yaml_parser_set_input(&p, read_handler, l);
		lint_sink sink = { l->policy, l->file, 0, sink_add, l };
		l->rep.files++;
		for (int doc = 1;; doc++) {
			lint_node *root = NULL;
			lint_arena *arena = NULL;
			const char *why = NULL;
			int line = 0;
			lint_doc_status st = lint_read_document(&root, &arena, &p, &l->guard, mode, &why, &line);
			int rc = 0;
			if (st == LINT_DOC_OK) {
				l->rep.documents++;
				sink.document = doc;
				size_t first_finding = l->rep.n;
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

void *lint_worker_main(void *ud)
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
