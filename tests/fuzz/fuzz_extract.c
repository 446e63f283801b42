/* Extraction of untrusted layers (tar, tar+gzip; zstd/xz/bzip2 through
 * libarchive), as pull and sync run it. Each input is extracted into a
 * fresh, empty directory inside the sandbox, beside a decoy directory and
 * file; with a subpath when its length is a multiple of 3, read-only when
 * it is even. After each input, whether it was accepted or refused:
 *   - the sandbox holds only dest, the decoy directory (still empty), the
 *     decoy file (content and link count unchanged) and the index written
 *     on purpose;
 *   - every symlink under dest resolves inside dest (for an accepted one);
 *   - no file under dest is a hard link to anything outside dest.
 * Refusals name the problem. */
#include "fuzz.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "oci/extract.h"

static char *dest, *decoy_dir, *decoy_file, *index_file;
static const char decoy_text[] = "decoy: must stay as it is\n";

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *sb = fuzz_sandbox();
	if (asprintf(&dest, "%s/dest", sb) < 0 || asprintf(&decoy_dir, "%s/decoy", sb) < 0 ||
	    asprintf(&decoy_file, "%s/decoy.yaml", sb) < 0 || asprintf(&index_file, "%s/index", sb) < 0)
		abort();
	if (mkdir(decoy_dir, 0755) < 0)
		abort();
	fuzz_write_file(decoy_file, decoy_text, sizeof decoy_text - 1);
	return 0;
}

/* Regular files seen under dest: a file's link count must equal the number
 * of its names inside dest (else it is linked from outside). */
typedef struct seen_file {
	ino_t ino;
	nlink_t nlink;
	nlink_t names;
} seen_file;
static seen_file *seen;
static size_t nseen, capseen;

static void see(const struct stat *st)
{
	for (size_t i = 0; i < nseen; i++)
		if (seen[i].ino == st->st_ino) {
			seen[i].names++;
			return;
		}
	if (nseen == capseen) {
		capseen = capseen ? capseen * 2 : 64;
		seen = realloc(seen, capseen * sizeof *seen);
		if (!seen)
			abort();
	}
	seen[nseen++] = (seen_file){ st->st_ino, st->st_nlink, 1 };
}

/* 1 when a symlink whose directory is depth levels below dest, pointing at
 * target, stays inside dest by its text alone (relative, and its '..'
 * never climbing above dest), as extract.h promises. */
static int link_text_inside(const char *target, int depth)
{
	if (target[0] == '/')
		return 0;
	int level = depth;
	const char *p = target;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && !strncmp(p, "..", 2)) {
			if (--level < 0)
				return 0;
		} else if (n > 0 && !(n == 1 && *p == '.')) {
			level++;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	return 1;
}

/* Walks dest (without following symlinks) checking links. depth bounds a
 * hostile tree. */
static void check_tree(const char *dir, const char *real_dest, int accepted, int depth)
{
	FUZZ_CHECK(depth < 256);
	DIR *d = opendir(dir);
	if (!d)
		return; /* read-only trees are still listable; a refused one may be partial */
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *p;
		if (asprintf(&p, "%s/%s", dir, e->d_name) < 0)
			abort();
		struct stat st;
		FUZZ_CHECK(lstat(p, &st) == 0);
		if (S_ISDIR(st.st_mode)) {
			check_tree(p, real_dest, accepted, depth + 1);
		} else if (S_ISLNK(st.st_mode)) {
			char resolved[PATH_MAX], target[PATH_MAX];
			ssize_t tn = readlink(p, target, sizeof target - 1);
			FUZZ_CHECK(tn >= 0);
			target[tn] = '\0';
			if (accepted && !link_text_inside(target, depth))
				fprintf(stderr, "symlink %s -> %s leaves the destination\n", p, target);
			FUZZ_CHECK(!accepted || link_text_inside(target, depth));
			if (accepted && realpath(p, resolved)) {
				size_t n = strlen(real_dest);
				if (strncmp(resolved, real_dest, n) != 0 || (resolved[n] != '/' && resolved[n] != '\0'))
					fprintf(stderr, "symlink %s resolves to %s, outside %s\n", p, resolved, real_dest);
				FUZZ_CHECK(strncmp(resolved, real_dest, n) == 0 &&
					   (resolved[n] == '/' || resolved[n] == '\0'));
			}
		} else {
			FUZZ_CHECK(S_ISREG(st.st_mode)); /* no devices, FIFOs, sockets */
			see(&st);
		}
		free(p);
	}
	closedir(d);
}

static void check_outside(void)
{
	/* only what this harness put there: dest, the decoys, the index */
	const char *sb = fuzz_sandbox();
	DIR *d = opendir(sb);
	FUZZ_CHECK(d != NULL);
	struct dirent *e;
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		if (strcmp(n, ".") && strcmp(n, "..") && strcmp(n, "dest") && strcmp(n, "decoy") &&
		    strcmp(n, "decoy.yaml") && strcmp(n, "index"))
			fprintf(stderr, "written outside the destination: %s/%s\n", sb, n);
		FUZZ_CHECK(!strcmp(n, ".") || !strcmp(n, "..") || !strcmp(n, "dest") || !strcmp(n, "decoy") ||
			   !strcmp(n, "decoy.yaml") || !strcmp(n, "index"));
	}
	closedir(d);
	FUZZ_CHECK(fuzz_dir_count(decoy_dir) == 0);
	struct stat st;
	FUZZ_CHECK(lstat(decoy_file, &st) == 0 && S_ISREG(st.st_mode));
	FUZZ_CHECK(st.st_nlink == 1 && st.st_size == (off_t)sizeof decoy_text - 1);
	char buf[sizeof decoy_text];
	int fd = open(decoy_file, O_RDONLY | O_CLOEXEC);
	FUZZ_CHECK(fd >= 0);
	FUZZ_CHECK(read(fd, buf, sizeof buf) == (ssize_t)sizeof decoy_text - 1);
	close(fd);
	FUZZ_CHECK(!memcmp(buf, decoy_text, sizeof decoy_text - 1));
	FUZZ_CHECK(access("/tmp/pwned", F_OK) != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dest)
		LLVMFuzzerInitialize(NULL, NULL);
	FUZZ_CHECK(mkdir(dest, 0755) == 0);
	oci_extract_opts o; oci_extract_opts_init(&o);
	o.max_size = 1 << 20;
	o.max_entries = 1000;
	o.subpath = size % 3 == 0 ? "a" : NULL;
	o.read_only = size % 2 == 0;
	o.index_out = index_file;
	oci_mem_source src = { data, size, 0 };
	oci_extract_stats st;
	memset(&st, 0, sizeof st);
	int rc = oci_extract(&st, oci_mem_source_read, &src, dest, &o);
	FUZZ_CHECK_FAILURE(rc);
	if (rc == 0) {
		FUZZ_CHECK(st.bytes >= 0 && st.bytes <= o.max_size);
		FUZZ_CHECK(st.entries >= 0 && st.entries <= o.max_entries);
	}
	char real_dest[PATH_MAX];
	FUZZ_CHECK(realpath(dest, real_dest) != NULL);
	nseen = 0;
	check_tree(dest, real_dest, rc == 0, 0);
	for (size_t i = 0; i < nseen; i++)
		FUZZ_CHECK(seen[i].names == seen[i].nlink);
	check_outside();
	FUZZ_CHECK(oci_rmtree(dest) == 0);
	unlink(index_file);
	return 0;
}
