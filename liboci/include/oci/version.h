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
#ifdef __cplusplus
}
#endif
#endif
