#ifndef OCI_VERSION_H
#define OCI_VERSION_H
#ifdef __cplusplus
extern "C" {
#endif
/* liboci's version, "MAJOR.MINOR.PATCH". */
const char *oci_version(void);
/* The versions of the libraries liboci links (one line). Belongs to the library. */
const char *oci_version_deps(void);
/* Global init (curl); safe to call more than once. Returns 0. */
int oci_init(void);
#ifdef __cplusplus
}
#endif
#endif
