/* The options-version check and the one way callbacks are called
 * (contract.h). */
#include "contract.h"
#include "error_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int oci__opts_init(void *opts, size_t size, const char *type, int version)
{
	if (!opts)
		return oci_error_set(OCI_EINVALID, "%s_init: the options pointer is NULL", type);
	memset(opts, 0, size);
	*(int *)opts = version; /* the first member of every options struct */
	return 0;
}

int oci__opts_check(const void *opts, const char *type, int known)
{
	if (!opts)
		return 0;
	int v = *(const int *)opts;
	if (v == known)
		return 0;
	return oci_error_set(OCI_EINVALID,
			     "%s has version %d, and this liboci knows version %d only: initialise it with %s_init "
			     "(and build against this liboci's headers)", type, v, known, type);
}

int oci__progress(const oci_callbacks *cb, const char *what, int64_t done, int64_t total)
{
	if (!cb || !cb->progress || !cb->progress(cb->payload, what, done, total))
		return 0;
	return oci_error_set(OCI_EINTERRUPTED, "%s: cancelled by the progress callback", what ? what : "transfer");
}

void oci__logv(const oci_callbacks *cb, oci_log_level level, const char *fmt, va_list ap)
{
	if (!cb || !cb->log)
		return;
	char line[1024];
	vsnprintf(line, sizeof line, fmt, ap);
	cb->log(cb->payload, level, line);
}

void oci__log(const oci_callbacks *cb, oci_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	oci__logv(cb, level, fmt, ap);
	va_end(ap);
}

void oci__event_line(const oci_callbacks *cb, oci_event_type type, const char *line)
{
	if (!cb || !cb->event)
		return;
	oci_event ev = { type, line, NULL };
	cb->event(cb->payload, &ev);
}
