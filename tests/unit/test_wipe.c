/* Secrets are wiped before their memory is freed: a freed buffer lives on
 * in the heap (and in core dumps, swap) until reused. This test replaces
 * free() for the whole process (liboci and the libraries it calls resolve
 * free to this executable's definition) and, while armed, looks into
 * every block freed for the plaintext secret.
 *
 * Under AddressSanitizer the allocator is ASan's and free cannot be
 * replaced: the test is skipped there (exit 77) and runs in the normal
 * build. */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oci/oci.h"
#include "oci/credentials.h"

#define SECRET "W1pe-Me-Secret-42"

#if defined(__SANITIZE_ADDRESS__)
int main(void)
{
	fprintf(stderr, "skipped: free() cannot be replaced under AddressSanitizer\n");
	return 77;
}
#else
#include "test.h" /* here: the skipped build uses none of it */
extern void __libc_free(void *);
static volatile int armed;
static int leaks;

void free(void *p)
{
	if (p && armed) {
		size_t n = malloc_usable_size(p);
		if (memmem(p, n, SECRET, strlen(SECRET)))
			leaks++;
	}
	__libc_free(p);
}

static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

static char dir[] = "/tmp/ocisync-wipe.XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void test_get_wipes_the_decoded_auth(void)
{
	char cfg[256];
	snprintf(cfg, sizeof cfg, "%s/config.json", dir);
	/* base64("alice:W1pe-Me-Secret-42") */
	write_file(cfg, "{\"auths\":{\"reg.example.com\":{\"auth\":\"YWxpY2U6VzFwZS1NZS1TZWNyZXQtNDI=\"}}}");
	char *u = NULL, *s = NULL;
	leaks = 0;
	armed = 1;
	int rc = oci_credentials_get(&u, &s, NULL, "reg.example.com", cfg);
	armed = 0;
	CHECK_EQ_INT(rc, 0);
	CHECK_STR(s, SECRET); /* the marker is really what was decoded */
	CHECK_EQ_INT(leaks, 0);
	wipe_free(u);
	wipe_free(s);
}

static void test_store_wipes_the_pair(void)
{
	char cfg[256];
	snprintf(cfg, sizeof cfg, "%s/stored.json", dir);
	leaks = 0;
	armed = 1;
	int rc = oci_credentials_store(NULL, "reg2.example.com", "bob", SECRET, cfg);
	armed = 0;
	CHECK_EQ_INT(rc, 0);
	CHECK_EQ_INT(leaks, 0);
	char *u = NULL, *s = NULL;
	CHECK_EQ_INT(oci_credentials_get(&u, &s, NULL, "reg2.example.com", cfg), 0);
	CHECK_STR(s, SECRET);
	wipe_free(u);
	wipe_free(s);
}

/* The harness itself: a freed block holding the secret is seen. */
static void test_probe_sees_a_leak(void)
{
	char *p = strdup("x " SECRET " y");
	void (*volatile release)(void *) = free; /* not elided as a builtin pair */
	leaks = 0;
	armed = 1;
	release(p);
	armed = 0;
	CHECK_EQ_INT(leaks, 1);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	RUN(test_probe_sees_a_leak);
	RUN(test_get_wipes_the_decoded_auth);
	RUN(test_store_wipes_the_pair);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	TEST_END();
}
#endif
