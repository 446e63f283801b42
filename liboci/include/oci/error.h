/* liboci error handling: every public function returns 0 or a negative
 * oci_error_code; the message for the last failure on this thread is kept
 * in oci_error_last(). */
#ifndef OCI_ERROR_H
#define OCI_ERROR_H
#include "oci/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
	OCI_OK = 0,
	OCI_ERROR = -1,      /* generic failure */
	OCI_EINVALID = -2,   /* malformed input: reference, JSON, option */
	OCI_ENOTFOUND = -3,  /* tag, manifest, blob, file not found */
	OCI_EAUTH = -4,      /* authentication or authorisation refused */
	OCI_EIO = -5,        /* local I/O (disk full, permission) */
	OCI_ENET = -6,       /* network, TLS, protocol */
	OCI_EDIGEST = -7,    /* content does not match its digest or size */
	OCI_ELIMIT = -8,     /* a size / count limit was exceeded */
	OCI_EUNSAFE = -9,    /* hostile archive entry, escaping symlink */
	OCI_EVERIFY = -10,   /* signature verification failed */
	OCI_ELOCKED = -11,   /* another process holds the lock */
	OCI_ENOMEM = -12,
	OCI_EEXISTS = -13,   /* destination exists */
	OCI_EPASSWORD = -14, /* wrong password or corrupt key */
	OCI_EUNSUPPORTED = -15,
	OCI_EPOLICY = -16,   /* the content breaks the lint policy (push refused) */
	OCI_ETIMEOUT = -17,  /* the operation's deadline passed (--timeout) */
	OCI_EINTERRUPTED = -18, /* stopped by the caller's cancel flag (SIGTERM, Ctrl-C) */
} oci_error_code;

typedef struct oci_error {
	int code;            /* an oci_error_code */
	char message[2048];  /* never contains credentials */
} oci_error;

/* The last error recorded on this thread; never NULL (code 0, empty message
 * when nothing failed). Belongs to the library. */
OCI_EXTERN const oci_error *oci_error_last(void);
OCI_EXTERN void oci_error_clear(void);
/* For callbacks given to liboci (verifiers, sinks, sources): records why
 * they refused, so the caller of the operation reads it from
 * oci_error_last(). Returns code. */
OCI_EXTERN int oci_error_set_str(int code, const char *message);
/* A short name for a code ("not found", "authentication"). */
OCI_EXTERN const char *oci_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
