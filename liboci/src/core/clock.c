/* The monotonic clock every deadline is measured on (oci_clock_ms, public
 * in oci/target.h). Here, at the bottom, because the HTTP engine, token
 * fetches, sync and the targets all measure time with it. */
#include "oci/target.h"

#include <time.h>

int64_t oci_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
