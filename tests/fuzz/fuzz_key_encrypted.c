/* The JSON inside an encrypted cosign key (go-securesystemslib's
 * "encrypted" format: kdf name and scrypt N/r/p, salt, cipher, nonce,
 * ciphertext), fuzzed directly rather than through PEM and base64, so
 * mutations reach its fields. Only the scrypt costs cosign accepts run
 * (slow: ~0.1 s an input), so most inputs stop before. Invariants: a
 * failure names the problem; the secretbox never opens with the wrong
 * password; what it opens with the right one is wiped and freed. */
#include "fuzz.h"

#include "key_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *plain = NULL;
	size_t len = 0;
	/* "supersecret" opens the go-securesystemslib vectors. */
	int rc = oci_cosign_decrypt(&plain, &len, data, size, "supersecret", "fuzz");
	FUZZ_CHECK_FAILURE(rc);
	if (rc == 0)
		oci_cosign_plain_free(plain, len);
	else
		FUZZ_CHECK(plain == NULL);
	return 0;
}
