/* Private: Docker credential helpers (the program docker-credential-NAME, found on PATH):
 * `get` and `erase` read the server URL on stdin, `store` reads
 * {"ServerURL","Username","Secret"}; `get` answers with that JSON. */
#ifndef OCI_CREDHELPER_H
#define OCI_CREDHELPER_H

/* 0 with *user and *secret NULL when the helper has nothing for server_url. */
int oci_credhelper_get(char **user, char **secret, const char *name, const char *server_url);
int oci_credhelper_store(const char *name, const char *server_url, const char *user, const char *secret);
/* OCI_ENOTFOUND (no message set) when the helper had nothing to erase. */
int oci_credhelper_erase(const char *name, const char *server_url);

#endif
