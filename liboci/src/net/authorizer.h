/* Private: all the HTTP engine knows of authentication. Whoever opens an
 * engine for a registry (auth/, see auth.h) attaches one authorizer; the
 * engine asks it for the Authorization header of each request that has a
 * scope and stays on the registry's origin, and hands it the registry's
 * challenges. Tokens, credentials and schemes stay behind it, so net/
 * never calls up into auth/. */
#ifndef OCI_AUTHORIZER_H
#define OCI_AUTHORIZER_H

typedef struct oci_authorizer {
	void *ctx;
	/* The "Authorization: ..." line for a request for scope
	 * (space-separated distribution scopes, "" for /v2/), or *out = NULL
	 * to go anonymously. Caller wipes and frees *out; never logged. */
	int (*header)(void *ctx, char **out, const char *scope);
	/* A request for scope was answered 401 (or 403 naming
	 * insufficient_scope) with these WWW-Authenticate values (joined by
	 * ", "): prepare the next header. 0 = retry the request; an error
	 * (message set) ends it. The engine calls it at most once per request,
	 * twice when the first retry carried a bearer token. */
	int (*challenge)(void *ctx, const char *www_authenticate, const char *scope);
	/* Frees ctx with the engine (may be NULL). */
	void (*free)(void *ctx);
} oci_authorizer;

#endif
