/* Private to the streaming linter (lint.c the caller's side and the
 * queue, lint_worker.c the worker, lint_path.c linting a directory):
 * the queue's messages and the linter's state, shared by both threads. */
#ifndef OCI_LINT_QUEUE_H
#define OCI_LINT_QUEUE_H
#include <pthread.h>
#include <stddef.h>
#include "oci/lint.h"
#include "lint_internal.h"

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
	/* fuzz_lint's reference: every file's whole tree (set before the
	 * first feed; the queue's lock orders it before the worker's reads) */
	int full_tree;
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
	lint_input_guard guard;
	oci_lint_report rep;
	size_t cap;
	int failed;            /* OCI_ENOMEM when the worker ran out of memory */
};

static inline void append(msg **head, msg **tail, msg *m)
{
	m->next = NULL;
	if (*tail)
		(*tail)->next = m;
	else
		*head = m;
	*tail = m;
}

/* 1 for a file the linter reads (.yaml, .yml, .json). */
int lint_is_lintable(const char *rel);
/* lint_worker.c: the worker thread's body (ud: the oci_lint). */
void *lint_worker_main(void *ud);

#endif
