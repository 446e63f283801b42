#ifndef OCI_VERSION_H
#define OCI_VERSION_H
#include "oci/common.h"
#ifdef __cplusplus
extern "C" {
#endif
/* liboci's version, "MAJOR.MINOR.PATCH". */
OCI_EXTERN const char *oci_version(void);
/* The versions of the libraries liboci links (one line). Belongs to the library. */
OCI_EXTERN const char *oci_version_deps(void);
/* Global init (curl); safe to call more than once. Returns 0. */
OCI_EXTERN int oci_init(void);
/* Frees what liboci keeps for the whole process: the registry tokens and
 * the answers to authentication challenges cached across targets (tokens
 * are wiped first). Call it once at exit, after every target is freed and
 * while no other thread is inside liboci; the library stays usable
 * afterwards (the caches fill again), so calling it early only costs new
 * token requests. Not thread-safe with concurrent operations. */
OCI_EXTERN void oci_shutdown(void);
#ifdef __cplusplus
}
#endif
#endif
