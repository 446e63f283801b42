/* What every operation needs to know about an artifact: which reference it
 * names, which layer holds its files, and where its cosign signature lives. */
#include "oci/artifact.h"
#include "oci/extract.h"
#include "oci/resolve.h"
#include "oci/sign.h"
#include "error_internal.h"
#include "blob.h"
#include "extract_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oci_resolve_ref(char digest[OCI_DIGEST_SIZE], char **media_type, oci_target *t)
{
	const oci_ref *r = oci_target_ref(t);
	const char *what = r->digest ? r->digest : r->tags.n ? r->tags.items[0] : "latest";
	int rc = oci_target_resolve(digest, media_type, NULL, t, what);
	if (rc < 0)
		return rc;
	if (r->digest && strcmp(digest, r->digest) != 0)
		return oci_error_set(OCI_EDIGEST, "%s resolved to %s", r->digest, digest);
	return 0;
}

static int is_content_layer(const char *mt)
{
	static const char *const types[] = {
		OCI_MT_LAYER_TGZ, OCI_MT_LAYER_TAR, OCI_MT_FLUX_LAYER, OCI_MT_DOCKER_LAYER,
		"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
		"application/vnd.docker.image.rootfs.diff.tar",
		"application/tar+gzip", "application/x-tar", "application/gzip",
		"application/vnd.cncf.helm.chart.content.v1.tar+gzip",
	};
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (!strcmp(mt, types[i]))
			return 1;
	/* Vendor types that say what they are: "...tar+gzip", "....tar". */
	size_t n = strlen(mt);
	return (n > 9 && !strcmp(mt + n - 9, ".tar+gzip")) || (n > 4 && !strcmp(mt + n - 4, ".tar")) ||
	       (n > 9 && !strcmp(mt + n - 9, "/tar+gzip"));
}

int oci_artifact_layer(const oci_descriptor **out, const oci_manifest *m)
{
	*out = NULL;
	if (m->is_index)
		return oci_error_set(OCI_EUNSUPPORTED,
				     "the reference names an index of %zu manifests; name one of them by digest", m->nlayers);
	for (size_t i = 0; i < m->nlayers; i++) {
		if (is_content_layer(m->layers[i].media_type)) {
			*out = &m->layers[i];
			return 0;
		}
	}
	/* ORAS's single file pushed with a type of its own ("file:text/plain"):
	 * the title names it. */
	for (size_t i = 0; i < m->nlayers; i++) {
		if (oci_kvlist_get(&m->layers[i].annotations, "org.opencontainers.image.title")) {
			*out = &m->layers[i];
			return 0;
		}
	}
	if (m->nlayers == 0)
		return oci_error_set(OCI_EUNSUPPORTED, "the artifact has no layers");
	return oci_error_set(OCI_EUNSUPPORTED, "the artifact has no tar or tar+gzip layer and no titled file (first layer is %s)",
			     m->layers[0].media_type);
}

/* The title of a titled layer that is no archive, given is_archive. */
static int single_title(const char **title, const oci_manifest *m, const oci_descriptor *layer, int is_archive)
{
	const char *t = oci_kvlist_get(&layer->annotations, "org.opencontainers.image.title");
	if (!t || is_archive)
		return 0;
	/* ORAS's several files are one titled layer each: writing this one
	 * alone would silently drop the others. */
	for (size_t i = 0; i < m->nlayers; i++) {
		const char *other = oci_kvlist_get(&m->layers[i].annotations, "org.opencontainers.image.title");
		if (&m->layers[i] != layer && other)
			return oci_error_set(OCI_EUNSUPPORTED,
					     "the artifact holds several files, one layer each ('%s', '%s', ...), as oras push "
					     "makes of several paths; ocisync reads one layer: push them as one folder",
					     t, other);
	}
	*title = t;
	return 0;
}

int oci_artifact_single_file(const char **title, const oci_manifest *m, const oci_descriptor *layer,
			     int blob_fd)
{
	*title = NULL;
	int is_archive = 1, rc;
	if (oci_kvlist_get(&layer->annotations, "org.opencontainers.image.title") &&
	    (rc = oci_extract_is_archive_fd(&is_archive, blob_fd)) < 0)
		return rc;
	return single_title(title, m, layer, is_archive);
}

int oci_artifact_single_file_stream(const char **title, const oci_manifest *m, const oci_descriptor *layer,
				    oci_istream *blob)
{
	*title = NULL;
	int is_archive = 1, rc;
	if (oci_kvlist_get(&layer->annotations, "org.opencontainers.image.title")) {
		const void *head;
		ssize_t n = oci_istream_peek(blob, &head, OCI__ARCHIVE_HEAD);
		if (n < 0 || (rc = oci__extract_is_archive_mem(&is_archive, head, (size_t)n)) < 0)
			return n < 0 ? (int)n : rc;
	}
	return single_title(title, m, layer, is_archive);
}

int oci_signature_tag(char **out, const char *digest)
{
	int rc = oci_digest_validate(digest);
	if (rc < 0)
		return rc;
	if (asprintf(out, "sha256-%s.sig", oci_digest_hex(digest)) < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}
