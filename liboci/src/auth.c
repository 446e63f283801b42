/* Registry authentication: one oci_auth per registry host. First cut:
 * anonymous only; challenges are answered in later commits. */
#include "auth.h"
#include "error_internal.h"

#include <stdlib.h>
#include <string.h>

struct oci_auth {
	char *api_host;
	char *config_host;
	const oci_client_opts *opts;
};

int oci_auth_new(oci_auth **out, const char *api_host, const char *config_host,
		 const oci_client_opts *opts)
{
	*out = NULL;
	oci_auth *a = calloc(1, sizeof *a);
	if (!a)
		return OCI_ENOMEM_SET();
	a->api_host = strdup(api_host);
	a->config_host = strdup(config_host ? config_host : api_host);
	a->opts = opts;
	if (!a->api_host || !a->config_host) {
		oci_auth_free(a);
		return OCI_ENOMEM_SET();
	}
	*out = a;
	return 0;
}

void oci_auth_free(oci_auth *a)
{
	if (!a)
		return;
	free(a->api_host);
	free(a->config_host);
	free(a);
}

int oci_auth_header(char **out, oci_auth *a, const char *scope)
{
	(void)a;
	(void)scope;
	*out = NULL;
	return 0;
}

int oci_auth_handle_challenge(oci_auth *a, const char *www_authenticate, const char *scope)
{
	(void)www_authenticate;
	(void)scope;
	return oci_error_set(OCI_EAUTH, "registry %s requires authentication: run 'ocisync login %s'",
			     a->config_host, a->config_host);
}
