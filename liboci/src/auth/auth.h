/* Private: credentials and tokens for one registry host, shared by every
 * request a registry target makes. auth/ implements the HTTP engine's
 * authorizer (net/authorizer.h) with it: the engine asks for a header
 * per request and hands over the registry's 401 challenges; tokens are
 * fetched through that same engine (one TLS, retry, redirect, timeout and
 * cancel policy for every request). */
#ifndef OCI_AUTH_H
#define OCI_AUTH_H
#include "http.h"
#include "oci/target.h"

typedef struct oci_auth oci_auth;

/* An HTTP engine for the registry at api_host (host[:port] requests go
 * to, "registry-1.docker.io") with an authorizer for it attached:
 * config_host is the name credentials are stored under ("docker.io",
 * "127.0.0.1:5000"); credentials are looked up lazily, on the first
 * challenge. auth_out (may be NULL) gets the authorizer's state, owned by
 * the engine (freed by oci_http_free). opts must outlive the engine. */
int oci_auth_http_new(oci_http **out, oci_auth **auth_out, const char *api_host, const char *config_host,
		      const oci_client_opts *opts);

/* Uses these credentials instead of looking in the Docker config (login's
 * check before it stores them). identity_token: secret is an OAuth2
 * refresh token. */
int oci_auth_set_credentials(oci_auth *a, const char *user, const char *secret, int identity_token);

/* What a registry host asked for last, kept process-wide (never a
 * secret): "basic", "bearer", or NULL when not known. */
const char *oci_auth_scheme_name(const char *api_host);
/* Remembers that api_host asks for Basic credentials (the sync state
 * recalls it across runs), so the first request of the next oci_auth of
 * that host sends stored credentials up front instead of waiting for the
 * 401. A host whose scheme is already known keeps it. */
int oci_auth_remember_basic(const char *api_host);

/* Empties the process-wide token and host caches (tokens wiped); for
 * oci_shutdown. Safe at any time: later requests fill them again. */
void oci__auth_cache_free(void);

#endif
