/* Replays corpora through one harness without libFuzzer (any compiler):
 * `fuzz-replay-NAME DIR|FILE...` runs every regular file it is given, or
 * finds in the directories given (and their subdirectories), through
 * LLVMFuzzerTestOneInput, in name order. An input that breaks an invariant aborts (after naming itself),
 * so the meson test fails; ASan/UBSan builds catch memory errors too. */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>

#include "oci/io.h"

__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	oci_buf b = OCI_BUF_INIT;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (oci_buf_append(&b, chunk, n) < 0)
			abort();
	int err = ferror(f);
	fclose(f);
	if (err) {
		fprintf(stderr, "fuzz-replay: %s: read error\n", path);
		oci_buf_dispose(&b);
		return -1;
	}
	/* An exact-size copy, so ASan sees reads past the input's end. */
	uint8_t *copy = malloc(b.len ? b.len : 1);
	if (!copy)
		abort();
	if (b.len)
		memcpy(copy, b.data, b.len);
	fprintf(stderr, "fuzz-replay: %s (%zu bytes)\n", path, b.len);
	LLVMFuzzerTestOneInput(copy, b.len);
	free(copy);
	oci_buf_dispose(&b);
	return 0;
}

static int run_dir(const char *dir, int *count)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "fuzz-replay: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	oci_strlist names = OCI_STRLIST_INIT;
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && oci_strlist_push(&names, e->d_name) < 0)
			abort();
	closedir(d);
	qsort(names.items, names.n, sizeof *names.items, by_name);
	int rc = 0;
	for (size_t i = 0; i < names.n && !rc; i++) {
		char *p;
		struct stat st;
		if (asprintf(&p, "%s/%s", dir, names.items[i]) < 0)
			abort();
		if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
			rc = run_file(p);
			(*count)++;
		} else if (S_ISDIR(st.st_mode)) {
			rc = run_dir(p, count);
		}
		free(p);
	}
	oci_strlist_dispose(&names);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
		return 2;
	}
	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	int count = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz-replay: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		int rc = S_ISDIR(st.st_mode) ? run_dir(argv[i], &count) : (count++, run_file(argv[i]));
		if (rc)
			return 1;
	}
	if (count == 0) {
		fprintf(stderr, "fuzz-replay: no inputs found\n");
		return 1;
	}
	printf("fuzz-replay: %d inputs, no invariant broken\n", count);
	return 0;
}
