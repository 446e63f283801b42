/* Private: the public API's contract on the library's side: options
 * structs checked for their version, and the caller's callbacks
 * (oci_callbacks) called in one way everywhere. */
#ifndef OCI_CONTRACT_H
#define OCI_CONTRACT_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "oci/callbacks.h"

/* An options struct's _init: zeroes size bytes at opts and sets its first
 * member, the int version, to version. OCI_EINVALID naming type when opts
 * is NULL. */
int oci__opts_init(void *opts, size_t size, const char *type, int version);
/* 0 when opts is NULL (the defaults) or its version (the first member) is
 * known; otherwise OCI_EINVALID naming type and both versions, so a
 * program built against other headers, or a struct never initialised,
 * fails at once instead of reading fields that are not there. */
int oci__opts_check(const void *opts, const char *type, int known);

/* cb->progress, when set; 0, or OCI_EINTERRUPTED (naming what) when it
 * returned non-zero: the caller aborts the transfer with that code. */
int oci__progress(const oci_callbacks *cb, const char *what, int64_t done, int64_t total);
/* cb->log with a printf-style message (cut at 1 KiB), when set. */
void oci__log(const oci_callbacks *cb, oci_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void oci__logv(const oci_callbacks *cb, oci_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* cb->event with an event of type carrying line, when set. */
void oci__event_line(const oci_callbacks *cb, oci_event_type type, const char *line);

#endif
