/* Helpers shared by the harnesses (fuzz.h). */
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "oci/extract.h"

char *fuzz_cstring(const uint8_t *data, size_t size)
{
	if (memchr(data, '\0', size))
		return NULL;
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static char *sandbox;

static void sandbox_remove(void)
{
	if (sandbox)
		oci_rmtree(sandbox);
	free(sandbox);
	sandbox = NULL;
}

const char *fuzz_sandbox(void)
{
	if (sandbox)
		return sandbox;
	const char *tmp = getenv("TMPDIR");
	if (!tmp || !*tmp)
		tmp = "/tmp";
	if (asprintf(&sandbox, "%s/ocisync-fuzz-XXXXXX", tmp) < 0 || !mkdtemp(sandbox)) {
		perror("fuzz: creating the sandbox directory");
		abort();
	}
	atexit(sandbox_remove);
	return sandbox;
}

void fuzz_write_file(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	const char *p = data;
	while (size > 0) {
		ssize_t w = write(fd, p, size);
		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		size -= (size_t)w;
	}
	close(fd);
}

int fuzz_dir_count(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}
