/* Docker config.json / podman auth.json as `login` and every registry
 * command read them (oci_credentials_get). The input is written to a file
 * in the sandbox and looked up for a few hosts. Credential helpers named in
 * it are looked up on a PATH that holds none (nothing is ever run).
 * Invariants: a failure names the problem and returns nothing; a found
 * credential has both halves. */
#include "fuzz.h"

#include <sys/stat.h>

#include "oci/credentials.h"

static char *config;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* Helpers are resolved on PATH: an empty directory makes every one
	 * "not installed" without running anything. */
	char *empty;
	if (asprintf(&empty, "%s/no-helpers", fuzz_sandbox()) < 0 || mkdir(empty, 0700) < 0)
		abort();
	setenv("PATH", empty, 1);
	unsetenv("REGISTRY_AUTH_FILE");
	unsetenv("XDG_RUNTIME_DIR");
	free(empty);
	if (asprintf(&config, "%s/config.json", fuzz_sandbox()) < 0)
		abort();
	return 0;
}

static const char *const hosts[] = {
	"registry.example.com", "docker.io", "localhost:5000", "https://index.docker.io/v1/", "a",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!config)
		LLVMFuzzerInitialize(NULL, NULL);
	fuzz_write_file(config, data, size);
	for (size_t i = 0; i < sizeof hosts / sizeof *hosts; i++) {
		char *user = NULL, *secret = NULL;
		int identity = -1;
		int rc = oci_credentials_get(&user, &secret, &identity, hosts[i], config);
		FUZZ_CHECK_FAILURE(rc);
		FUZZ_CHECK(identity == 0 || identity == 1);
		if (rc == 0) {
			FUZZ_CHECK(!user == !secret);
		} else {
			FUZZ_CHECK(!user && !secret);
		}
		free(user);
		free(secret);
	}
	/* The host normaliser on the raw text, too. */
	char *s = fuzz_cstring(data, size);
	if (s) {
		char norm[256];
		oci_credentials_normalize_host(norm, sizeof norm, s);
		FUZZ_CHECK(strlen(norm) < sizeof norm);
		free(s);
	}
	return 0;
}
