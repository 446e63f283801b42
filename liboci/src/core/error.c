#include "error_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local oci_error last_error;
static _Thread_local oci_hint last_hint;
static _Thread_local char last_hint_subject[512];

const oci_error *oci_error_last(void) { return &last_error; }

oci_hint oci_error_hint(const char **subject)
{
	if (subject)
		*subject = last_hint != OCI_HINT_NONE && last_hint_subject[0] ? last_hint_subject : NULL;
	return last_hint;
}

void oci_error_clear(void)
{
	last_error.code = 0;
	last_error.message[0] = '\0';
	last_hint = OCI_HINT_NONE;
}

int oci_error_set(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	last_error.code = code;
	last_hint = OCI_HINT_NONE;
	vsnprintf(last_error.message, sizeof last_error.message, fmt, ap);
	va_end(ap);
	return code;
}

int oci_error_hint_set(oci_hint hint, const char *subject)
{
	last_hint = hint;
	snprintf(last_hint_subject, sizeof last_hint_subject, "%s", subject ? subject : "");
	return last_error.code;
}

void oci__error_save(oci__error_saved *s)
{
	s->error = last_error;
	s->hint = last_hint;
	snprintf(s->subject, sizeof s->subject, "%s", last_hint_subject);
}

int oci__error_restore(const oci__error_saved *s)
{
	last_error = s->error;
	last_hint = s->hint;
	snprintf(last_hint_subject, sizeof last_hint_subject, "%s", s->subject);
	return last_error.code;
}

int oci_error_set_str(int code, const char *message)
{
	return oci_error_set(code, "%s", message ? message : "");
}

int oci_error_wrap(const char *fmt, ...)
{
	char prefix[1024], old[sizeof last_error.message];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, last_error.message, sizeof old);
	/* prefix first, then as much of the old message as fits (a long
	 * chain is cut at the end, where it matters least) */
	size_t n = strlen(prefix);
	if (n > sizeof last_error.message - 3)
		n = sizeof last_error.message - 3;
	memcpy(last_error.message, prefix, n);
	memcpy(last_error.message + n, ": ", 2);
	n += 2;
	size_t rest = strnlen(old, sizeof old);
	if (rest > sizeof last_error.message - n - 1)
		rest = sizeof last_error.message - n - 1;
	memcpy(last_error.message + n, old, rest);
	last_error.message[n + rest] = '\0';
	if (last_error.code == 0)
		last_error.code = OCI_ERROR;
	return last_error.code;
}

int oci_error_errno(const char *fmt, ...)
{
	int err = errno;
	char what[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	int code = err == ENOENT ? OCI_ENOTFOUND : err == ENOMEM ? OCI_ENOMEM : OCI_EIO;
	return oci_error_set(code, "%s: %s", what, strerror(err));
}

const char *oci_hint_name(oci_hint hint)
{
	switch (hint) {
	case OCI_HINT_CA_FILE: return "ca_file";
	case OCI_HINT_CA_FILE_MISMATCH: return "ca_file_mismatch";
	case OCI_HINT_PLAIN_HTTP: return "plain_http";
	case OCI_HINT_CLIENT_CERT: return "client_cert";
	case OCI_HINT_CHECK_CLIENT_CERT: return "check_client_cert";
	case OCI_HINT_LOGIN: return "login";
	case OCI_HINT_REGISTRY_CONFIG: return "registry_config";
	case OCI_HINT_FORCE: return "force";
	case OCI_HINT_ALLOW_EMPTY: return "allow_empty";
	case OCI_HINT_ALLOW_UNSIGNED: return "allow_unsigned";
	case OCI_HINT_IGNORE: return "ignore";
	case OCI_HINT_RENAME_OR_IGNORE: return "rename_or_ignore";
	case OCI_HINT_MAX_ENTRIES: return "max_entries";
	case OCI_HINT_MAX_SIZE: return "max_size";
	case OCI_HINT_LINT_RULES: return "lint_rules";
	case OCI_HINT_KEY_EXISTS: return "key_exists";
	case OCI_HINT_RAISE_TIMEOUT: return "raise_timeout";
	case OCI_HINT_REVOKED_WITHDRAWN: return "revoked_withdrawn";
	case OCI_HINT_REVOKED_KEPT: return "revoked_kept";
	case OCI_HINT_ROOT_PER_PATH: return "root_per_path";
	case OCI_HINT_STATUS_FILE_DIR: return "status_file_dir";
	case OCI_HINT_METRICS_FILE_DIR: return "metrics_file_dir";
	case OCI_HINT_MAX_FAILURES: return "max_failures";
	case OCI_HINT_HTTP_BIND: return "http_bind";
	case OCI_HINT_NONE: break;
	}
	return NULL;
}

const char *oci_error_name(int code)
{
	switch (code) {
	case OCI_OK: return "ok";
	case OCI_EINVALID: return "invalid input";
	case OCI_ENOTFOUND: return "not found";
	case OCI_EAUTH: return "authentication";
	case OCI_EIO: return "I/O";
	case OCI_ENET: return "network";
	case OCI_EDIGEST: return "digest mismatch";
	case OCI_ELIMIT: return "limit exceeded";
	case OCI_EUNSAFE: return "unsafe content";
	case OCI_EVERIFY: return "verification failed";
	case OCI_ELOCKED: return "locked";
	case OCI_ENOMEM: return "out of memory";
	case OCI_EEXISTS: return "exists";
	case OCI_EPASSWORD: return "wrong password or corrupt key";
	case OCI_EUNSUPPORTED: return "unsupported";
	case OCI_EPOLICY: return "policy";
	case OCI_ETIMEOUT: return "timeout";
	case OCI_EINTERRUPTED: return "interrupted";
	default: return "error";
	}
}
