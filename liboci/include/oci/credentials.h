/* Registry credentials as Docker, podman and their credential helpers keep
 * them: the Docker config.json (`auths`, `credHelpers`, `credsStore`),
 * REGISTRY_AUTH_FILE and podman's auth.json. Secrets returned here are the
 * caller's to wipe and free (free()); liboci never prints or logs them.
 * Thread-safety: reentrant, but the Docker config is a file shared with
 * other processes: concurrent stores to the same file may lose one
 * (each write is atomic). Credential helpers run as child processes. */
#ifndef OCI_CREDENTIALS_H
#define OCI_CREDENTIALS_H
#include "oci/common.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The config file used when config_path is NULL: $DOCKER_CONFIG/config.json,
 * else ~/.docker/config.json. Caller frees *out with free(). 0, or
 * OCI_EINVALID with neither set (hint OCI_HINT_REGISTRY_CONFIG). */
OCI_EXTERN int oci_credentials_config_path(char **out, const char *config_path);

/* Credentials for host ("registry.example.com:5000", "docker.io"; a
 * "https://" prefix and a path are ignored). Looked up in the config's
 * credHelpers[host], then its credsStore, then its `auths`; when config_path
 * is NULL also in REGISTRY_AUTH_FILE and ${XDG_RUNTIME_DIR}/containers/auth.json.
 * Nothing stored is not an error: 0 with *user and *secret NULL.
 * *is_identity_token (may be NULL) is set when *secret is an OAuth2 refresh
 * token (Docker's `identitytoken`) rather than a password. *user and
 * *secret: caller wipes and frees with free(). 0; OCI_EINVALID (a
 * malformed config), OCI_EIO, or a helper's failure (OCI_ERROR,
 * OCI_ETIMEOUT). */
OCI_EXTERN int oci_credentials_get(char **user, char **secret, int *is_identity_token,
			const char *host, const char *config_path);

/* Stores user/secret for host: through credHelpers[host] or credsStore
 * when configured, else base64 in the config's `auths` (the file keeps its
 * other keys, mode 0600, replaced atomically). *where (may be NULL)
 * receives what was written: the file path or "credential helper NAME"
 * (caller frees with free()). 0, OCI_EIO, a helper's failure. */
OCI_EXTERN int oci_credentials_store(char **where, const char *host, const char *user,
			  const char *secret, const char *config_path);

/* Removes host's credentials from where oci_credentials_store puts them.
 * OCI_ENOTFOUND when none were stored; *where as for oci_credentials_store. */
OCI_EXTERN int oci_credentials_erase(char **where, const char *host, const char *config_path);

/* Checks user/secret against the registry at host (GET /v2/ and the
 * challenge it answers with: token service or Basic), with opts' TLS
 * choices (NULL = the defaults). 0 when the registry accepts them; OCI_EAUTH
 * when it refuses; OCI_ENET (with a TLS hint, oci_error_hint) when it cannot
 * be reached; OCI_EINVALID for an options version this liboci does not
 * know. */
OCI_EXTERN int oci_credentials_verify(const char *host, const char *user, const char *secret,
			   const oci_client_opts *opts);

/* "docker.io" for Docker Hub's aliases, host[:port] without scheme or path
 * otherwise, into buf (NUL-terminated; truncated to n). */
OCI_EXTERN void oci_credentials_normalize_host(char *buf, size_t n, const char *host);

#ifdef __cplusplus
}
#endif
#endif
