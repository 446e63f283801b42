/* The limits on an artifact's tree, one set shared by push (which refuses
 * before packing what pull and sync would refuse) and extraction, with one
 * wording; and their record in the manifest, so that a consumer who allows
 * it can apply the publisher's limits. */
#include "bundle_internal.h"
#include "error_internal.h"
#include "oci/extract.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

int64_t oci__limit_entries(int64_t v)
{
	return v > 0 ? v : OCI_DEFAULT_MAX_ENTRIES;
}

int64_t oci__limit_size(int64_t v)
{
	return v > 0 ? v : OCI_DEFAULT_MAX_SIZE;
}

int oci__limit_entries_error(int64_t max)
{
	oci_error_set(OCI_ELIMIT, "the artifact has more than %lld entries (files, directories, links)", (long long)max);
	return oci_error_hint_set(OCI_HINT_MAX_ENTRIES, NULL);
}

int oci__limit_size_error(int64_t max, const char *entry)
{
	oci_error_set(OCI_ELIMIT, "the artifact holds more than %lld bytes of content (at entry '%s')", (long long)max,
		      entry);
	return oci_error_hint_set(OCI_HINT_MAX_SIZE, NULL);
}

/* A positive decimal number, nothing else. */
static int parse_limit(int64_t *out, const char *key, const char *v)
{
	char *end = NULL;
	errno = 0;
	long long n = v[0] >= '0' && v[0] <= '9' ? strtoll(v, &end, 10) : -1;
	if (n <= 0 || errno || !end || *end)
		return oci_error_set(OCI_EINVALID, "manifest annotation %s is not a positive whole number: '%.40s'", key, v);
	*out = n;
	return 0;
}

int oci_limits_from_annotations(int64_t *max_entries, int64_t *max_size, const oci_kvlist *annotations)
{
	const char *e = oci_kvlist_get(annotations, OCI_ANN_MAX_ENTRIES);
	const char *s = oci_kvlist_get(annotations, OCI_ANN_MAX_SIZE);
	int64_t v;
	int rc;
	if (e) {
		if ((rc = parse_limit(&v, OCI_ANN_MAX_ENTRIES, e)) < 0)
			return rc;
		*max_entries = v;
	}
	if (s) {
		if ((rc = parse_limit(&v, OCI_ANN_MAX_SIZE, s)) < 0)
			return rc;
		*max_size = v;
	}
	return 0;
}

int oci_limits_annotate(oci_kvlist *annotations, int64_t max_entries, int64_t max_size)
{
	char buf[32];
	int rc = 0;
	/* only limits that differ from the defaults: a default push keeps its
	 * manifest (and digest) as before */
	if (max_entries > 0 && max_entries != OCI_DEFAULT_MAX_ENTRIES) {
		snprintf(buf, sizeof buf, "%" PRId64, max_entries);
		rc = oci_kvlist_set(annotations, OCI_ANN_MAX_ENTRIES, buf);
	}
	if (rc == 0 && max_size > 0 && max_size != OCI_DEFAULT_MAX_SIZE) {
		snprintf(buf, sizeof buf, "%" PRId64, max_size);
		rc = oci_kvlist_set(annotations, OCI_ANN_MAX_SIZE, buf);
	}
	return rc;
}
