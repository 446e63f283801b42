/* DSSE's pre-authentication encoding (see oci/dsse.h). */
#include "error_internal.h"
#include "oci/dsse.h"

#include <stdio.h>
#include <string.h>

int oci_dsse_pae(oci_buf *out, const char *payload_type, const void *payload, size_t len)
{
	char head[64];
	size_t tlen = strlen(payload_type);
	int n = snprintf(head, sizeof head, "DSSEv1 %zu ", tlen);
	char mid[32];
	int m = snprintf(mid, sizeof mid, " %zu ", len);
	int rc;
	if ((rc = oci_buf_append(out, head, (size_t)n)) < 0 || (rc = oci_buf_append(out, payload_type, tlen)) < 0 ||
	    (rc = oci_buf_append(out, mid, (size_t)m)) < 0 || (len && (rc = oci_buf_append(out, payload, len)) < 0))
		return rc;
	return 0;
}
