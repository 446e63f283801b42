/* oci_credentials_verify: what `ocisync login` runs before it stores
 * credentials. A GET /v2/ through an engine with the credentials given
 * (not the stored ones), answered by the same authorizer every command
 * uses, so login accepts exactly what later commands will. */
#include "auth_internal.h"
#include "dockerhub.h"
#include "error_internal.h"
#include "contract.h"
#include "oci/credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oci_credentials_verify(const char *host, const char *user, const char *secret, const oci_client_opts *opts)
{
	static const oci_client_opts defaults = { .version = OCI_CLIENT_OPTS_VERSION };
	char norm[256];
	oci_http *h = NULL;
	oci_auth *a = NULL;
	oci_http_resp resp = OCI_HTTP_RESP_INIT;
	char *url = NULL;
	if (oci__opts_check(opts, "oci_client_opts", OCI_CLIENT_OPTS_VERSION) < 0)
		return oci_error_last()->code;
	oci_credentials_normalize_host(norm, sizeof norm, host);
	const char *api = oci_dockerhub_api_host(norm);
	/* used without a target: the deadline starts here */
	oci_client_opts o = opts ? *opts : defaults;
	if (!o.deadline_ms && o.timeout_ms > 0)
		o.deadline_ms = oci_clock_ms() + o.timeout_ms;
	int rc = oci_auth_http_new(&h, &a, api, norm, &o);
	if (rc < 0)
		return rc;
	if ((rc = oci_auth_set_credentials(a, user, secret, 0)) < 0)
		goto cleanup;
	if (asprintf(&url, "%s/v2/", oci_http_base(h)) < 0) {
		url = NULL;
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	oci_auth_log(a, "auth: GET %s (checking the credentials of %s)", url, user);
	oci_http_req req = { .method = "GET", .url = url, .scope = "", .flags = OCI_HTTP_FOLLOW, .what = "GET /v2/" };
	rc = oci_http_do(&resp, h, &req);
	if (rc < 0 && (a->challenge_failed || resp.status == 0 || resp.status == 400))
		goto cleanup; /* the authorizer's, or the engine's (TLS, proxy, HTTPS port) message */
	if (resp.status == 401 || resp.status == 403) {
		rc = oci_error_set(OCI_EAUTH, "%s: authentication failed for user %s (%ld from registry)", norm, user,
				   resp.status);
		goto cleanup;
	}
	if (resp.status != 200) {
		rc = oci_error_set(OCI_ENET, "registry %s answered HTTP %ld to GET /v2/ (is it an OCI registry?)", api,
				   resp.status);
		goto cleanup;
	}
	rc = 0;
cleanup:
	oci_http_resp_dispose(&resp);
	free(url);
	oci_http_free(h);
	return rc;
}
