/* Manifests and indexes as registries and layouts serve them. The input's
 * first byte picks the Content-Type it is served with (none, OCI manifest,
 * OCI index, Docker manifest, Docker list, something else); the rest is
 * the body. Invariants: a failure names the problem; a parsed document has
 * sane descriptors (valid digest, size >= 0, media type set). */
#include "fuzz.h"

#include "oci/digest.h"
#include "oci/manifest.h"

static const char *const served[] = {
	NULL, OCI_MT_MANIFEST, OCI_MT_INDEX, OCI_MT_DOCKER_MANIFEST, OCI_MT_DOCKER_LIST, "text/plain",
};

static void check_desc(const oci_descriptor *d)
{
	FUZZ_CHECK(oci_digest_validate(d->digest) == 0);
	FUZZ_CHECK(d->size >= 0);
	FUZZ_CHECK(d->media_type != NULL);
	for (size_t i = 0; i < d->annotations.n; i++)
		FUZZ_CHECK(oci_kvlist_get(&d->annotations, d->annotations.items[i].key) != NULL);
	oci_descriptor copy;
	memset(&copy, 0, sizeof copy);
	FUZZ_CHECK(oci_descriptor_copy(&copy, d) == 0);
	FUZZ_CHECK(!strcmp(copy.digest, d->digest) && copy.size == d->size);
	oci_descriptor_dispose(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	const char *type = served[data[0] % (sizeof served / sizeof *served)];
	oci_manifest *m = NULL;
	int rc = oci_manifest_parse(&m, data + 1, size - 1, type);
	FUZZ_CHECK_FAILURE(rc);
	if (rc == 0) {
		FUZZ_CHECK(m != NULL && m->media_type != NULL);
		if (!m->is_index)
			check_desc(&m->config);
		for (size_t i = 0; i < m->nlayers; i++)
			check_desc(&m->layers[i]);
		if (m->subject)
			check_desc(m->subject);
	}
	oci_manifest_free(m);
	return 0;
}
