/* Replacing sync's small files (state, status, metrics) atomically: readers
 * see the old or the new content, never a mix. */
#include "sync_internal.h"
#include "fileutil.h"

int sync_write_atomic(const char *path, const void *data, size_t len, int durable)
{
	/* 0644: node_exporter and operators read these files */
	return oci_write_file_atomic(path, data, len, 0644, durable);
}
