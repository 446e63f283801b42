/* Reading artifacts other tools wrote: which layer holds the content. */
#ifndef OCI_ARTIFACT_H
#define OCI_ARTIFACT_H
#include "oci/common.h"
#include "oci/manifest.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Finds the content layer of an artifact manifest: the first tar/tar+gzip
 * layer (ocisync, Flux, ORAS, Docker), else the first layer with an
 * org.opencontainers.image.title (ORAS's file of another media type).
 * *out points into m (belongs to m). Returns 0, or OCI_EUNSUPPORTED when
 * none. Thread-safe (reads m only). */
OCI_EXTERN int oci_artifact_layer(const oci_descriptor **out, const oci_manifest *m);

/* How a downloaded layer (open as blob_fd) of m is read: *title NULL when
 * it is an archive (or has no title) -- extract it; otherwise ORAS's single
 * file: a titled layer that is not an archive (oci_extract_is_archive_fd),
 * to be written as the one file *title (oci_extract_single; the title is
 * checked there). Returns 0; OCI_EUNSUPPORTED when such a layer is one of
 * several titled layers (ORAS's several files); OCI_EIO reading blob_fd.
 * *title points into m; blob_fd's offset is 0 afterwards. Thread-safe for
 * distinct blob_fd. */
OCI_EXTERN int oci_artifact_single_file(const char **title, const oci_manifest *m, const oci_descriptor *layer,
			     int blob_fd);

#ifdef __cplusplus
}
#endif
#endif
