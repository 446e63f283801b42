/* Private: setting errors. */
#ifndef OCI_ERROR_INTERNAL_H
#define OCI_ERROR_INTERNAL_H
#include "oci/error.h"

/* Records code and a printf-style message; returns code, so callers write
 * `return oci_error_set(OCI_EINVALID, "bad tag %s", t);`. */
int oci_error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prepends context to the current message ("pushing blob X: " + old);
 * returns the current code. */
int oci_error_wrap(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Records strerror(errno) with context; returns OCI_EIO (or OCI_ENOTFOUND for ENOENT). */
int oci_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Attaches a hint (and what it is about, may be NULL) to the error just
 * recorded, which oci_error_set resets; returns its code, so callers write
 * `oci_error_set(...); return oci_error_hint_set(OCI_HINT_FORCE, NULL);`.
 * oci_error_wrap keeps it. */
int oci_error_hint_set(oci_hint hint, const char *subject);
/* The whole last error (code, message, hint), kept while other work may
 * record errors of its own, then put back: a hint must survive with its
 * message (re-setting only the message would drop it). */
typedef struct oci__error_saved {
	oci_error error;
	oci_hint hint;
	char subject[512];
} oci__error_saved;
void oci__error_save(oci__error_saved *s);
/* Makes s the last error again; returns its code. */
int oci__error_restore(const oci__error_saved *s);
#define OCI_ENOMEM_SET() oci_error_set(OCI_ENOMEM, "out of memory")

#endif
