/* liboci error handling: every public function returns 0 or a negative
 * oci_error_code; the message for the last failure on this thread is kept
 * in oci_error_last(), and what the caller could do about it in
 * oci_error_hint(). Messages never name a program's flags or commands: a
 * program renders the hint in its own words (ocisync names its flags).
 * All of it is per thread: thread-safe, and a failure on one thread never
 * changes what another thread reads. */
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
	OCI_ETIMEOUT = -17,  /* the operation's deadline passed */
	OCI_EINTERRUPTED = -18, /* stopped by the caller: its cancel flag (SIGTERM, Ctrl-C) or a progress callback's non-zero return */
} oci_error_code;

/* What the caller could change to succeed, when the library knows. */
typedef enum oci_hint {
	OCI_HINT_NONE = 0,
	OCI_HINT_CA_FILE,          /* the registry's certificate is not trusted: give its CA (or skip the checks) */
	OCI_HINT_CA_FILE_MISMATCH, /* the CA given did not sign the registry's certificate */
	OCI_HINT_PLAIN_HTTP,       /* the registry speaks plain HTTP: connect without TLS */
	OCI_HINT_CLIENT_CERT,      /* the registry wants a client certificate and none was given */
	OCI_HINT_CHECK_CLIENT_CERT,/* the client certificate or key was refused or is unreadable */
	OCI_HINT_LOGIN,            /* credentials are needed: store them (subject: the registry host) */
	OCI_HINT_REGISTRY_CONFIG,  /* no Docker config could be found: name one */
	OCI_HINT_FORCE,            /* the destination is not empty: allow replacing it */
	OCI_HINT_ALLOW_EMPTY,      /* nothing to push: allow an empty artifact */
	OCI_HINT_ALLOW_UNSIGNED,   /* no signatures to copy: allow copying without */
	OCI_HINT_IGNORE,           /* a file that cannot be packed: leave it out (an ignore pattern) */
	OCI_HINT_RENAME_OR_IGNORE, /* a file name that cannot be packed: rename the file or leave it out */
	OCI_HINT_MAX_ENTRIES,      /* over the entry limit: raise it where the artifact is pushed, pulled, synced */
	OCI_HINT_MAX_SIZE,         /* over the size limit: raise it likewise */
	OCI_HINT_LINT_RULES,       /* an unknown lint rule: list the rules (oci_lint_rules) */
	OCI_HINT_KEY_EXISTS,       /* a key file exists: remove it or write the pair elsewhere */
	/* the values above keep their numbers; new ones are appended */
	OCI_HINT_RAISE_TIMEOUT,    /* the operation's timeout passed: give it longer if this is expected */
	OCI_HINT_REVOKED_WITHDRAWN,/* sync: a revision no trusted key verifies was withdrawn, as asked
				    * (keep_revoked off); keeping it served is the other choice */
	OCI_HINT_REVOKED_KEPT,     /* likewise, kept served as asked (keep_revoked on) */
	OCI_HINT_ROOT_PER_PATH,    /* sync: the root holds another folder of the artifact: one root per path */
	OCI_HINT_STATUS_FILE_DIR,  /* sync: the status file's directory is missing: create it or name another file */
	OCI_HINT_METRICS_FILE_DIR, /* likewise for the metrics file */
	OCI_HINT_MAX_FAILURES,     /* the sync loop stopped at its limit of failures in a row (max_failures) */
	OCI_HINT_HTTP_BIND,        /* the sync loop's HTTP address is malformed or cannot be listened on */
} oci_hint;

typedef struct oci_error {
	int code;            /* an oci_error_code */
	char message[2048];  /* never contains credentials */
} oci_error;

/* The last error recorded on this thread; never NULL (code 0, empty message
 * when nothing failed). Belongs to the library: valid until the next liboci
 * call on this thread. Thread-safe. */
OCI_EXTERN const oci_error *oci_error_last(void);
/* The hint of the last error recorded on this thread (OCI_HINT_NONE when
 * there is none, or nothing failed). *subject (may be NULL) receives what
 * the hint is about (OCI_HINT_LOGIN: the registry host) or NULL; it
 * belongs to the library until the next error on this thread. */
OCI_EXTERN oci_hint oci_error_hint(const char **subject);
/* A stable machine name for a hint: the enum's name in lower case without
 * OCI_HINT_ ("raise_timeout", "login"), as sync's status file carries it;
 * NULL for OCI_HINT_NONE and unknown values. Static. Thread-safe. */
OCI_EXTERN const char *oci_hint_name(oci_hint hint);
/* Forgets the last error and its hint. */
OCI_EXTERN void oci_error_clear(void);
/* For callbacks given to liboci (verifiers, sinks, sources): records why
 * they refused (code and a copy of message; the hint is cleared), so the
 * caller of the operation reads it from oci_error_last(). Returns code. */
OCI_EXTERN int oci_error_set_str(int code, const char *message);
/* A short name for a code ("not found", "authentication"); static. */
OCI_EXTERN const char *oci_error_name(int code);

#ifdef __cplusplus
}
#endif
#endif
