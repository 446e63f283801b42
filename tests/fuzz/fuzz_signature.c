/* Signature payloads and signature images, as `verify`, `pull --verify`
 * and `sync --verify` read them from an untrusted registry. Every input
 * goes through: the simple-signing payload check (with and without
 * required annotations), the ".sig" manifest parser, and for each layer's
 * signature annotation, base64 decoding and ECDSA verification against a
 * fixed public key (testdata/cosign/signatures/cosign.pub) over a fixed
 * payload. Invariants: a failure names the problem; nothing but the one
 * genuine signature verifies. */
#include "fuzz.h"

#include <jansson.h>

#include "key_internal.h"
#include "sign_internal.h"

/* testdata/cosign/signatures/cosign.pub and the payload signed by the
 * signature in cosign-valid/sig-manifest.json. */
static const char pub_pem[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEFNLqFhf4fiN6o/glAuYnq2jYUeL0\n"
	"vRuLu/z39pmbVwS9ff5AYnlwaP9sxREajdLY9ynM6G1sy6AAmb7Z63TsLg==\n"
	"-----END PUBLIC KEY-----\n";
static const char payload[] =
	"{\"critical\":{\"identity\":{\"docker-reference\":\"192.168.64.2:5000/cosign-signed-single-sample\"},"
	"\"image\":{\"docker-manifest-digest\":\"sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00\"},"
	"\"type\":\"cosign container image signature\"},\"optional\":null}";
static const char genuine[] =
	"MEYCIQDmtamqYPjMg81nqeBhptrPls44aA/r7PwLmspINJY4MwIhANKRpqe2E9UCBtGFdPoz/8jAbaQm4uP4h+IpwKTE6ClR";
#define DIGEST "sha256:634a8f35b5f16dcf4aaa0822adc0b1964bb786fca12f6831de8ddc45e5986a00"

static oci_key *pub;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (oci_key_parse_public(&pub, pub_pem, sizeof pub_pem - 1, "cosign.pub") != 0)
		abort();
	return 0;
}

static void check_signature(const char *b64)
{
	unsigned char *sig = NULL;
	size_t len = 0;
	int rc = oci_cosign_b64_decode(&sig, &len, b64, strlen(b64), "signature");
	FUZZ_CHECK_FAILURE(rc);
	if (rc == 0) {
		rc = oci_key_verify(pub, payload, sizeof payload - 1, sig, len);
		FUZZ_CHECK_FAILURE(rc);
		/* DER is not unique in theory, but OpenSSL only accepts the
		 * canonical encoding: the genuine text is the one that verifies. */
		if (rc == 0)
			FUZZ_CHECK(!strcmp(b64, genuine));
	}
	free(sig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!pub)
		LLVMFuzzerInitialize(NULL, NULL);
	FUZZ_CHECK_FAILURE(oci_simplesigning_check(data, size, DIGEST, NULL));
	oci_kvlist want = OCI_KVLIST_INIT;
	if (oci_kvlist_set(&want, "env", "prod") != 0)
		abort();
	FUZZ_CHECK_FAILURE(oci_simplesigning_check(data, size, DIGEST, &want));
	oci_kvlist_dispose(&want);

	json_t *m = NULL;
	int rc = oci_cosign_sig_manifest_parse(&m, data, size, "sha256-634a.sig");
	FUZZ_CHECK_FAILURE(rc);
	if (rc == 0) {
		FUZZ_CHECK(json_is_object(m));
		size_t i;
		json_t *layer;
		json_array_foreach(json_object_get(m, "layers"), i, layer) {
			const char *b64 = json_string_value(json_object_get(
				json_object_get(layer, "annotations"), OCI_COSIGN_SIGNATURE_ANNOTATION));
			if (b64)
				check_signature(b64);
		}
		json_decref(m);
	}
	return 0;
}
