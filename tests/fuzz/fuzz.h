/* Shared by the libFuzzer harnesses in tests/fuzz/ (see README.md there).
 * Each harness defines LLVMFuzzerTestOneInput; it is linked either with
 * libFuzzer (clang -fsanitize=fuzzer, -Dfuzz=enabled) or with replay.c,
 * which feeds it every file of its corpus (testdata/fuzz/<harness>/) in
 * every normal and sanitized test run. A broken invariant aborts, so both
 * libFuzzer and the replay test report it with the message printed here. */
#ifndef OCI_FUZZ_H
#define OCI_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                   \
	do {                                                                                \
		if (!(cond)) {                                                              \
			fprintf(stderr, "%s:%d: invariant broken: %s (last error %d: %s)\n", \
				__FILE__, __LINE__, #cond, oci_error_last()->code,            \
				oci_error_last()->message);                                   \
			abort();                                                            \
		}                                                                           \
	} while (0)

/* A failure is a negative code with a message naming the problem (the
 * API convention every caller relies on to print something useful). */
#define FUZZ_CHECK_FAILURE(rc)                                                   \
	do {                                                                      \
		int fuzz_rc_ = (rc);                                              \
		if (fuzz_rc_ < 0) {                                               \
			FUZZ_CHECK(oci_error_last()->code == fuzz_rc_);            \
			FUZZ_CHECK(oci_error_last()->message[0] != '\0');          \
		}                                                                 \
	} while (0)

/* The input as a NUL-terminated string (caller frees); NULL when it holds
 * a NUL byte, since the function under test takes C strings. */
char *fuzz_cstring(const uint8_t *data, size_t size);

/* A private directory for this process, created on first use and removed
 * (with everything under it) at exit. */
const char *fuzz_sandbox(void);

/* Writes data to path (truncating); aborts when it cannot. */
void fuzz_write_file(const char *path, const void *data, size_t size);

/* Number of entries in a directory (without . and ..); -1 when it cannot
 * be read. */
int fuzz_dir_count(const char *path);

#endif
