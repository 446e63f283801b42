/* oci_delete: a manifest by digest (a tag resolved first), or only tags. */
#include "oci/delete.h"
#include "error_internal.h"

#include <stdlib.h>
#include <string.h>

int oci_delete(char digest_out[OCI_DIGEST_SIZE], oci_target *t, int flags)
{
	const oci_ref *ref = oci_target_ref(t);
	int rc;
	if (!ref->digest && ref->tags.n == 0)
		return oci_error_set(OCI_EINVALID, "delete needs a tag or a digest in the reference");
	if ((flags & OCI_DELETE_UNTAG) && ref->tags.n == 0)
		return oci_error_set(OCI_EINVALID, "untag needs a tag in the reference, not only a digest");
	/* The digest first: what is deleted is named before it goes, and a tag
	 * resolved here is the manifest deleted (not whatever it names later). */
	char *mt = NULL;
	int64_t size;
	rc = oci_target_resolve(digest_out, &mt, &size, t, ref->digest ? ref->digest : ref->tags.items[0]);
	free(mt);
	if (rc < 0)
		return rc;
	if (!(flags & OCI_DELETE_UNTAG))
		return oci_target_manifest_delete(t, digest_out);
	for (size_t i = 0; i < ref->tags.n; i++) {
		if (ref->digest || i > 0) { /* each tag must still name the digest: untag what was asked, nothing else */
			char d[OCI_DIGEST_SIZE];
			mt = NULL;
			rc = oci_target_resolve(d, &mt, &size, t, ref->tags.items[i]);
			free(mt);
			if (rc == 0 && strcmp(d, digest_out) != 0)
				rc = oci_error_set(OCI_EINVALID, "tag '%s' names %s, not %s: not removed", ref->tags.items[i], d,
						   digest_out);
			if (rc < 0)
				return rc;
		}
		if ((rc = oci_target_manifest_delete(t, ref->tags.items[i])) < 0)
			return rc;
	}
	return 0;
}
