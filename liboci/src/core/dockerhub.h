/* Private: Docker Hub's naming rules, in one place. Docker Hub is the one
 * registry whose names differ by use: references say "docker.io" (and
 * accept the older aliases), requests go to "registry-1.docker.io",
 * official images live under "library/", the Docker config stores its
 * credentials under the historic v1 URL, and cosign payloads name it
 * "index.docker.io" (go-containerregistry's spelling). */
#ifndef OCI_DOCKERHUB_H
#define OCI_DOCKERHUB_H

#define OCI_DOCKERHUB "docker.io"                          /* the canonical name */
#define OCI_DOCKERHUB_API "registry-1.docker.io"           /* where requests go */
#define OCI_DOCKERHUB_CONFIG_KEY "https://index.docker.io/v1/" /* Docker config key */
#define OCI_DOCKERHUB_SIGN_NAME "index.docker.io"          /* in cosign payloads */

/* 1 for "docker.io" (exact, lower case). */
int oci_dockerhub_is(const char *registry);
/* A host written in a reference that means Docker Hub: "docker.io",
 * "index.docker.io", "registry-1.docker.io" (lower case, no port). */
int oci_dockerhub_ref_alias(const char *host);
/* A host under which credentials for Docker Hub are stored or asked for:
 * the reference aliases plus "registry.hub.docker.com" (docker login's
 * old default). */
int oci_dockerhub_credential_alias(const char *host);
/* The host requests for registry go to (Docker Hub's API host, or
 * registry itself). */
const char *oci_dockerhub_api_host(const char *registry);
/* The key credentials of registry (a canonical name) are stored under. */
const char *oci_dockerhub_config_key(const char *registry);
/* 1 when repository, on Docker Hub, needs the "library/" prefix (an
 * official image: one path component). */
int oci_dockerhub_needs_library(const char *registry, const char *repository);

#endif
