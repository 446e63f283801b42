/* Private to auth/: the state of one oci_auth, shared by auth.c (the
 * authorizer: headers and challenges), token.c (fetching bearer tokens)
 * and login.c (oci_credentials_verify). */
#ifndef OCI_AUTH_INTERNAL_H
#define OCI_AUTH_INTERNAL_H
#include "auth.h"

#include <pthread.h>
#include <stdint.h>

enum { MODE_NONE, MODE_BASIC, MODE_BEARER };

/* A token this oci_auth handed out, with what became of it. */
typedef struct token_entry {
	char *scope;
	char *token;
	int64_t expires;       /* CLOCK_MONOTONIC seconds */
	int used;              /* handed out by the header callback */
	int retried;           /* fetched again after the registry refused it */
	struct token_entry *next;
} token_entry;

struct oci_auth {
	char *api_host;
	char *config_host;
	oci_client_opts opts;  /* a copy: logging, the config path */
	oci_http *http;        /* the engine this serves (its owner): token requests go through it */
	pthread_mutex_t lock;
	int creds_loaded;
	char *user;            /* NULL: anonymous */
	char *secret;
	int identity_token;    /* secret is an OAuth2 refresh token */
	char creds_error[512]; /* why stored credentials could not be read, for the login hint */
	int mode;
	int basic_checked;     /* Basic credentials were tried against /v2/ */
	int challenge_failed;  /* the last challenge could not be answered (its message is set) */
	char *realm;
	char *service;
	token_entry *tokens;
};

void oci_auth_log(oci_auth *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oci_auth_wipe_free(char *s);
/* OCI_EAUTH "requires authentication: run 'ocisync login HOST'" (or why
 * the stored credentials could not be read). */
int oci_auth_login_hint(oci_auth *a);
int oci_auth_load_credentials(oci_auth *a);
/* "Authorization: Basic base64(user:secret)" of the loaded credentials. */
int oci_auth_basic_line(char **out, const oci_auth *a);

/* token.c: a token for scope from a->realm (lock held), and the check
 * that it grants the first scope's actions when it says what it grants. */
int oci_auth_fetch_token(char **token, long *lifetime, oci_auth *a, const char *scope);
int oci_auth_check_grant(oci_auth *a, const char *token, const char *scope);

#endif
