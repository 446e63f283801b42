/* Private to auth/: what credentials.c (finding credentials) and
 * credstore.c (storing and erasing them) share. */
#ifndef OCI_CREDENTIALS_INTERNAL_H
#define OCI_CREDENTIALS_INTERNAL_H
#include <jansson.h>

/* Loads a Docker config file; a missing file is an empty object
 * (*exists = 0, exists may be NULL). */
int oci_credentials_load_config(json_t **out, int *exists, const char *path);
/* Name of the credential helper for norm (a normalised host):
 * credHelpers[host] (any key spelling), else credsStore; NULL when none.
 * *from says which, for messages. */
const char *oci_credentials_helper_for(const json_t *cfg, const char *norm, const char **from);

#endif
