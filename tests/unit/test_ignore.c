/* gitignore semantics of oci_ignore (--ignore, .sourceignore). */
#include <stdio.h>
#include <unistd.h>

#include "oci/oci.h"
#include "test.h"

typedef struct row {
	const char *patterns; /* '\n'-separated, as in a .sourceignore */
	const char *path;
	int is_dir;
	int ignored;
} row;

static const row table[] = {
	/* plain names match at any depth */
	{ "secret.yaml", "secret.yaml", 0, 1 },
	{ "secret.yaml", "a/b/secret.yaml", 0, 1 },
	{ "secret.yaml", "a/secret.yaml.bak", 0, 0 },
	/* '*' and '?' never cross '/' */
	{ "*.bak", "x.bak", 0, 1 },
	{ "*.bak", "deep/dir/x.bak", 0, 1 },
	{ "a/*.yaml", "a/x.yaml", 0, 1 },
	{ "a/*.yaml", "a/b/x.yaml", 0, 0 },
	{ "file?.txt", "file1.txt", 0, 1 },
	{ "file?.txt", "file10.txt", 0, 0 },
	{ "a?b", "a/b", 0, 0 },
	/* bracket expressions */
	{ "v[0-9].yaml", "v7.yaml", 0, 1 },
	{ "v[0-9].yaml", "vx.yaml", 0, 0 },
	{ "v[!0-9].yaml", "vx.yaml", 0, 1 },
	{ "v[!0-9].yaml", "v1.yaml", 0, 0 },
	{ "[ab]c", "bc", 0, 1 },
	{ "[ab]c", "cc", 0, 0 },
	/* leading '/' anchors at the root */
	{ "/build", "build", 1, 1 },
	{ "/build", "sub/build", 1, 0 },
	/* a slash in the middle anchors too */
	{ "docs/internal", "docs/internal", 1, 1 },
	{ "docs/internal", "x/docs/internal", 1, 0 },
	/* trailing '/' only matches directories */
	{ "tmp/", "tmp", 1, 1 },
	{ "tmp/", "tmp", 0, 0 },
	{ "tmp/", "a/tmp", 1, 1 },
	/* files inside an ignored directory are ignored */
	{ "tmp/", "tmp/x.yaml", 0, 1 },
	{ "/out", "out/deep/x.yaml", 0, 1 },
	/* '**' */
	{ "**/foo", "foo", 0, 1 },
	{ "**/foo", "a/b/foo", 0, 1 },
	{ "**/foo/bar", "x/foo/bar", 0, 1 },
	{ "a/**", "a/x", 0, 1 },
	{ "a/**", "a/x/y/z", 0, 1 },
	{ "a/**", "a", 1, 0 },
	{ "a/**/b", "a/b", 0, 1 },
	{ "a/**/b", "a/x/y/b", 0, 1 },
	{ "a/**/b", "a/x/y/c", 0, 0 },
	{ "a**b", "a/x/b", 0, 0 }, /* not a path segment: like '*' */
	{ "a**b", "axxb", 0, 1 },
	/* negation, last match wins */
	{ "*.yaml\n!keep.yaml", "keep.yaml", 0, 0 },
	{ "*.yaml\n!keep.yaml", "drop.yaml", 0, 1 },
	{ "!keep.yaml\n*.yaml", "keep.yaml", 0, 1 },
	/* cannot re-include inside an ignored directory */
	{ "tmp/\n!tmp/keep.yaml", "tmp/keep.yaml", 0, 1 },
	/* comments, blank lines, escapes, trailing spaces */
	{ "# comment\n\n", "# comment", 0, 0 },
	{ "\\#hash", "#hash", 0, 1 },
	{ "\\!bang", "!bang", 0, 1 },
	{ "trail   ", "trail", 0, 1 },
	{ "space\\ ", "space ", 0, 1 },
	{ "space\\ ", "space", 0, 0 },
	{ "star\\*", "star*", 0, 1 },
	{ "star\\*", "starx", 0, 0 },
	{ "crlf.yaml\r", "crlf.yaml", 0, 1 },
	{ NULL, NULL, 0, 0 },
};

static void test_table(void)
{
	for (const row *r = table; r->patterns; r++) {
		oci_ignore *ig = NULL;
		CHECK_EQ_INT(oci_ignore_new(&ig), 0);
		char *copy = strdup(r->patterns), *save = NULL;
		/* split on '\n' keeping empty lines */
		for (char *line = copy, *next; line; line = next) {
			next = strchr(line, '\n');
			if (next)
				*next++ = '\0';
			CHECK_EQ_INT(oci_ignore_add(ig, line), 0);
		}
		(void)save;
		int got = oci_ignore_match(ig, r->path, r->is_dir);
		if (got != r->ignored)
			fprintf(stderr, "pattern(s) \"%s\" on %s%s: got %d, expected %d\n",
				r->patterns, r->path, r->is_dir ? "/" : "", got, r->ignored);
		CHECK_EQ_INT(got, r->ignored);
		free(copy);
		oci_ignore_free(ig);
	}
}

static void test_file(void)
{
	char path[] = "/tmp/oci-ignore-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "# generated\n*.tmp\n\n!important.tmp\n/secrets/\n";
	CHECK_EQ_INT(write(fd, text, strlen(text)), (long long)strlen(text));
	close(fd);
	oci_ignore *ig = NULL;
	oci_ignore_new(&ig);
	CHECK_EQ_INT(oci_ignore_add_file(ig, path), 0);
	CHECK_EQ_INT(oci_ignore_match(ig, "x.tmp", 0), 1);
	CHECK_EQ_INT(oci_ignore_match(ig, "important.tmp", 0), 0);
	CHECK_EQ_INT(oci_ignore_match(ig, "secrets/db.yaml", 0), 1);
	CHECK_EQ_INT(oci_ignore_match(ig, "app/secrets/db.yaml", 0), 0);
	CHECK_EQ_INT(oci_ignore_add_file(ig, "/nonexistent/.sourceignore"), 0); /* missing is fine */
	oci_ignore_free(ig);
	unlink(path);
}

int main(void)
{
	RUN(test_table);
	RUN(test_file);
	TEST_END();
}
