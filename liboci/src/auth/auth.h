/* Private: credentials and tokens for one registry host, shared by every
 * request a registry target makes. Owned by the auth module (auth.c,
 * challenge.c, credentials.c); used by the registry/HTTP module. */
#ifndef OCI_AUTH_H
#define OCI_AUTH_H
#include "oci/target.h"

typedef struct oci_auth oci_auth;

/* api_host: the host[:port] requests go to ("registry-1.docker.io");
 * config_host: the name credentials are stored under ("docker.io",
 * "127.0.0.1:5000"); credentials are looked up lazily, on the first
 * challenge. */
int oci_auth_new(oci_auth **out, const char *api_host, const char *config_host,
		 const oci_client_opts *opts);
void oci_auth_free(oci_auth *a);

/* The header to send for scope, "Authorization: Bearer ..." or
 * "Authorization: Basic ...", or *out = NULL when nothing is known yet
 * (anonymous first try). scope is space-separated distribution scopes,
 * e.g. "repository:team/app:pull,push repository:team/base:pull".
 * Caller frees *out. Never log it. */
int oci_auth_header(char **out, oci_auth *a, const char *scope);

/* After a 401: parses the WWW-Authenticate value (several challenges,
 * RFC 7235), obtains a bearer token for scope from the realm (or prepares
 * Basic credentials), caches it for scope. 0 = retry the request with
 * oci_auth_header; OCI_EAUTH with a message naming the host and what was
 * refused (never the secret). Called at most twice per request: a second
 * time when a freshly issued token is refused too (401, or 403 with
 * insufficient_scope), which gets a new token or a clear error. */
int oci_auth_handle_challenge(oci_auth *a, const char *www_authenticate, const char *scope);

/* Uses these credentials instead of looking in the Docker config (login's
 * check before it stores them). identity_token: secret is an OAuth2
 * refresh token. */
int oci_auth_set_credentials(oci_auth *a, const char *user, const char *secret, int identity_token);

/* Empties the process-wide token and host caches (tokens wiped); for
 * oci_shutdown. Safe at any time: later requests fill them again. */
void oci__auth_cache_free(void);

#endif
