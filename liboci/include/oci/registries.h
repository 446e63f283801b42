/* Per-registry connection settings kept in the Docker config.json that
 * ocisync already reads for credentials (the pull secret a CronJob mounts),
 * under a section of our own that Docker and podman ignore:
 *
 *   "ocisync": { "registries": {
 *       "127.0.0.1:5000":        { "plainHTTP": true },
 *       "registry.internal:443": { "caFile": "ca.crt", "certFile": "c.crt", "keyFile": "c.key" },
 *       "lab.example:5000":      { "insecure": true } } }
 *
 * Relative file names are relative to the config file's directory. Settings
 * only fill what the caller left unset: command-line options win. */
#ifndef OCI_REGISTRIES_H
#define OCI_REGISTRIES_H
#include "oci/common.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct oci_registry_settings oci_registry_settings;

/* Reads the "ocisync" section of the config (config_path, or the default
 * lookup of oci_credentials_config_path when NULL). A missing file or
 * section: empty settings. OCI_EINVALID for an invalid file or section
 * (unknown key, wrong type, plainHTTP with TLS files, certFile without
 * keyFile) and for a file the section names that cannot be read -- all
 * found here, before any request. */
OCI_EXTERN int oci_registry_settings_load(oci_registry_settings **out, const char *config_path);
OCI_EXTERN void oci_registry_settings_free(oci_registry_settings *s);

/* Fills opts' unset fields (plain_http, insecure, ca_file, cert_file and
 * key_file) from the entry for host ("host:port"; "docker.io" aliases as
 * credentials normalise them). The strings belong to s. Returns 1 when an
 * entry applied, 0 when none exists. */
OCI_EXTERN int oci_registry_settings_apply(const oci_registry_settings *s, const char *host, oci_client_opts *opts);

/* 1 for a loopback host[:port] (localhost, 127.0.0.0/8, ::1): the hosts
 * liboci speaks plain HTTP to unless TLS options are given. */
OCI_EXTERN int oci_registry_is_loopback(const char *host);

#ifdef __cplusplus
}
#endif
#endif
