/* oci_shutdown: frees the process-wide state of every subsystem. It lives
 * at the top layer because it reaches down into each one that keeps such
 * state (today: auth/'s token and challenge caches). */
#include "oci/version.h"
#include "auth.h"

void oci_shutdown(void)
{
	oci__auth_cache_free();
}
