/* Registry target: replaced by the distribution-API implementation. */
#include "target_impl.h"
#include "error_internal.h"

int oci_registry_open(oci_target *t)
{
	return oci_error_set(OCI_EUNSUPPORTED, "registry %s: remote registries are not supported in this build",
			     t->ref->registry);
}
