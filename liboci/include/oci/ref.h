/* References: "[oci://]HOST[:PORT]/REPO[:TAG[,TAG]][@sha256:HEX]" and
 * "oci-layout:PATH[:TAG[,TAG]][@sha256:HEX]".
 * Thread-safety: reentrant; an oci_ref is read-only after parsing and may
 * be shared between threads. */
#ifndef OCI_REF_H
#define OCI_REF_H
#include "oci/common.h"
#include <stddef.h>
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { OCI_REF_REGISTRY = 1, OCI_REF_LAYOUT = 2 } oci_ref_kind;

/* A parsed reference. Fields are read-only for callers; free with oci_ref_free. */
typedef struct oci_ref {
	oci_ref_kind kind;
	char *registry;    /* registry: host[:port] as written, "docker.io" for Docker Hub */
	char *repository;  /* registry: "team/app" ("library/x" for Docker Hub short names) */
	char *path;        /* layout: the directory */
	oci_strlist tags;  /* zero or more tags */
	char *digest;      /* "sha256:..." or NULL */
} oci_ref;

/* Parses s into *out (caller frees with oci_ref_free). 0, or OCI_EINVALID
 * naming what is wrong (host, repository, tag, digest). */
OCI_EXTERN int oci_ref_parse(oci_ref **out, const char *s);
/* NULL-safe. */
OCI_EXTERN void oci_ref_free(oci_ref *r);
/* A deep copy in *out (caller frees with oci_ref_free). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_ref_dup(oci_ref **out, const oci_ref *r);

/* The formatters: *out is the caller's, freed with free(); 0, OCI_ENOMEM.
 * "host/repo" or "oci-layout:path": the repository without tag or digest. */
OCI_EXTERN int oci_ref_format_repo(char **out, const oci_ref *r);
/* The repository pinned to a digest: "host/repo@sha256:..." */
OCI_EXTERN int oci_ref_format_pinned(char **out, const oci_ref *r, const char *digest);
/* The whole reference as it would be written (all tags, digest). */
OCI_EXTERN int oci_ref_format(char **out, const oci_ref *r);
/* The host to contact for a registry reference: "registry-1.docker.io" for
 * Docker Hub (belongs to r, or static). */
OCI_EXTERN const char *oci_ref_api_host(const oci_ref *r);

/* Grammar checks from the distribution spec; OCI_EINVALID with a message. */
OCI_EXTERN int oci_tag_validate(const char *tag);
OCI_EXTERN int oci_repository_validate(const char *repo);

#ifdef __cplusplus
}
#endif
#endif
