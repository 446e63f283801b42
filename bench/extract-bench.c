/* Extraction benchmark (not a test): full extraction of a layer against
 * an incremental one that reuses the previous revision's files, the way
 * `ocisync sync` extracts a new revision.
 *
 *   extract-bench pack TREE OUT.tar.gz      pack TREE (oci_bundle_pack_file)
 *   extract-bench run OLD NEW WORKDIR N     N interleaved rounds, medians
 *
 * A "full" round extracts NEW into an empty directory (read-only, writing
 * its index, as sync does); a "reuse" round extracts NEW with OLD's
 * revision and index as reuse source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "oci/oci.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void die(const char *what)
{
	fprintf(stderr, "extract-bench: %s: %s\n", what, oci_error_last()->message);
	exit(1);
}

static double extract(const char *layer, const char *dir, const char *index_out,
		      const char *reuse_dir, const char *reuse_index, oci_extract_stats *st)
{
	oci_extract_opts o; oci_extract_opts_init(&o);
	o.read_only = 1;
	o.index_out = index_out;
	o.reuse_dir = reuse_dir;
	o.reuse_index = reuse_index;
	if (oci_rmtree(dir) < 0 || mkdir(dir, 0755) < 0)
		die(dir);
	double t = now();
	if (oci_extract_file(st, layer, dir, &o) < 0)
		die(layer);
	return now() - t;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "pack") == 0) {
		oci_pack_result r;
		if (oci_bundle_pack_file(&r, argv[2], NULL, argv[3]) < 0)
			die(argv[2]);
		printf("%s %lld bytes, %zu entries\n", r.digest, (long long)r.size, r.entries);
		return 0;
	}
	if (argc != 6 || strcmp(argv[1], "run") != 0) {
		fprintf(stderr, "usage: extract-bench pack TREE OUT | run OLD NEW WORKDIR ROUNDS\n");
		return 2;
	}
	const char *old = argv[2], *new = argv[3], *work = argv[4];
	int rounds = atoi(argv[5]);
	char base[4096], base_idx[4096], full[4096], full_idx[4096], inc[4096], inc_idx[4096];
	snprintf(base, sizeof base, "%s/base", work);
	snprintf(base_idx, sizeof base_idx, "%s/base.index", work);
	snprintf(full, sizeof full, "%s/full", work);
	snprintf(full_idx, sizeof full_idx, "%s/full.index", work);
	snprintf(inc, sizeof inc, "%s/reuse", work);
	snprintf(inc_idx, sizeof inc_idx, "%s/reuse.index", work);
	double *tf = calloc((size_t)rounds, sizeof *tf), *tr = calloc((size_t)rounds, sizeof *tr);
	oci_extract_stats sf, sr, sb;
	extract(old, base, base_idx, NULL, NULL, &sb); /* warm-up and the previous revision */
	for (int i = 0; i < rounds; i++) {
		if (i % 2 == 0) {
			tf[i] = extract(new, full, full_idx, NULL, NULL, &sf);
			tr[i] = extract(new, inc, inc_idx, base, base_idx, &sr);
		} else {
			tr[i] = extract(new, inc, inc_idx, base, base_idx, &sr);
			tf[i] = extract(new, full, full_idx, NULL, NULL, &sf);
		}
		fprintf(stderr, "round %d: full %.3f s, reuse %.3f s\n", i + 1, tf[i], tr[i]);
	}
	qsort(tf, (size_t)rounds, sizeof *tf, cmp_double);
	qsort(tr, (size_t)rounds, sizeof *tr, cmp_double);
	double mf = tf[rounds / 2], mr = tr[rounds / 2];
	printf("full extraction:  median %.3f s (%lld files written)\n", mf, (long long)sf.files_written);
	printf("reuse extraction: median %.3f s (%lld files linked, %lld written)\n", mr,
	       (long long)sr.files_linked, (long long)sr.files_written);
	printf("reuse / full: %.2f\n", mr / mf);
	oci_rmtree(base);
	oci_rmtree(full);
	oci_rmtree(inc);
	free(tf);
	free(tr);
	return 0;
}
