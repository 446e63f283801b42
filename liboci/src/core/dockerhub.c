/* Docker Hub's naming rules (see dockerhub.h): every place that treats
 * Docker Hub differently asks here, so the aliases cannot drift apart. */
#include "dockerhub.h"

#include <string.h>

int oci_dockerhub_is(const char *registry)
{
	return registry && strcmp(registry, OCI_DOCKERHUB) == 0;
}

int oci_dockerhub_ref_alias(const char *host)
{
	return host && (!strcmp(host, OCI_DOCKERHUB) || !strcmp(host, OCI_DOCKERHUB_SIGN_NAME) ||
			!strcmp(host, OCI_DOCKERHUB_API));
}

int oci_dockerhub_credential_alias(const char *host)
{
	return oci_dockerhub_ref_alias(host) || (host && !strcmp(host, "registry.hub.docker.com"));
}

const char *oci_dockerhub_api_host(const char *registry)
{
	return oci_dockerhub_is(registry) ? OCI_DOCKERHUB_API : registry;
}

const char *oci_dockerhub_config_key(const char *registry)
{
	return oci_dockerhub_is(registry) ? OCI_DOCKERHUB_CONFIG_KEY : registry;
}

int oci_dockerhub_needs_library(const char *registry, const char *repository)
{
	return oci_dockerhub_is(registry) && repository && !strchr(repository, '/');
}
