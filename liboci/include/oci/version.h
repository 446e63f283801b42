#ifndef OCI_VERSION_H
#define OCI_VERSION_H
#include "oci/common.h"
#ifdef __cplusplus
extern "C" {
#endif
/* liboci's version, "MAJOR.MINOR.PATCH" (static). Thread-safe. */
OCI_EXTERN const char *oci_version(void);
/* The versions of the libraries liboci links (one line). Belongs to the
 * library (static). Thread-safe. */
OCI_EXTERN const char *oci_version_deps(void);
/* Sets up the process-wide state of the libraries liboci uses (OpenSSL,
 * libcurl's curl_global_init, libsodium). Call it first, before any other
 * thread starts using liboci. Idempotent and thread-safe: the work is done
 * once (pthread_once); later and concurrent calls wait for it and return
 * its result. Returns 0, or OCI_ERROR (oci_error_last() says which library
 * failed). Functions that need a library's state also set it up
 * themselves, so a program that forgets it still works. */
OCI_EXTERN int oci_init(void);
/* Frees what liboci keeps for the whole process: the registry tokens and
 * the answers to authentication challenges cached across targets (tokens
 * are wiped first). It must be the last liboci call: once at exit, after
 * every object (targets, keys, verifiers, ...) is freed and while no other
 * thread is inside liboci. The library stays usable afterwards (the caches
 * fill again), so calling it early only costs new token requests. Not
 * thread-safe with concurrent operations. */
OCI_EXTERN void oci_shutdown(void);
#ifdef __cplusplus
}
#endif
#endif
