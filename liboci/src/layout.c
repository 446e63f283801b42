/* OCI image layout target (being written). */
#include "target_impl.h"
#include "error_internal.h"

int oci_layout_open(oci_target *t)
{
	return oci_error_set(OCI_EUNSUPPORTED, "oci-layout:%s: not available yet", t->ref->path);
}
