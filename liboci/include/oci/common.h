/* What every public header shares: OCI_EXTERN marks the functions liboci
 * exports. The library is built with hidden visibility, so a function
 * without it is private to liboci whatever its name (the `symbols` test
 * checks that liboci.so exports only oci_* functions declared here). */
#ifndef OCI_COMMON_H
#define OCI_COMMON_H

#if defined(__GNUC__) || defined(__clang__)
#define OCI_EXTERN __attribute__((visibility("default")))
#else
#define OCI_EXTERN
#endif

#endif
