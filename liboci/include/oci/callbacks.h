/* How liboci reports to its caller while it works: one oci_callbacks
 * struct, one payload pointer handed back to every callback. The library
 * never prints; what it has to say goes through these.
 *
 * Thread-safety: liboci calls the callbacks of one operation one at a time
 * (parallel transfers serialise them behind a lock), on the thread of the
 * operation or one of its workers; they must not call back into liboci on
 * the same target. Every member may be NULL (nothing is reported). */
#ifndef OCI_CALLBACKS_H
#define OCI_CALLBACKS_H
#include "oci/common.h"
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum oci_log_level {
	OCI_LOG_DEBUG = 0,   /* one request or response (oci_client_opts.verbose); never credentials */
	OCI_LOG_INFO = 1,    /* a note: leftovers removed, revision pruned, hook killed */
	OCI_LOG_WARNING = 2, /* something the caller should see although the operation goes on */
} oci_log_level;

typedef enum oci_event_type {
	OCI_EVENT_HOOK_STDOUT = 1, /* line: one line sync's hook wrote to stdout (no newline) */
	OCI_EVENT_HOOK_STDERR = 2, /* line: one line sync's hook wrote to stderr */
	OCI_EVENT_SYNC_STEP = 3,   /* sync_result: the outcome of one step of oci_sync_loop */
} oci_event_type;

struct oci_sync_result;

/* What happened; the pointers belong to the library and are valid during
 * the call only. */
typedef struct oci_event {
	oci_event_type type;
	const char *line;                          /* HOOK_STDOUT, HOOK_STDERR; else NULL */
	const struct oci_sync_result *sync_result; /* SYNC_STEP; else NULL */
} oci_event;

typedef struct oci_callbacks {
	/* A message for a human, at a level (the caller filters). */
	void (*log)(void *payload, oci_log_level level, const char *message);
	/* Progress of one transfer: what is moving (a digest or a name), bytes
	 * so far and the total (-1 when unknown). A non-zero return cancels:
	 * the transfer aborts and the operation fails with OCI_EINTERRUPTED
	 * after its usual cleanup (nothing half written). */
	int (*progress)(void *payload, const char *what, int64_t done, int64_t total);
	/* Events that are not messages (see oci_event_type). */
	void (*event)(void *payload, const oci_event *event);
	void *payload;
} oci_callbacks;

#ifdef __cplusplus
}
#endif
#endif
