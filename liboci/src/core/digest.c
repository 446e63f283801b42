/* Streaming SHA-256 over OpenSSL's EVP interface. */
#include "oci/digest.h"
#include "error_internal.h"
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct oci_sha256 {
	EVP_MD_CTX *ctx;
};

int oci_sha256_new(oci_sha256 **out)
{
	oci_sha256 *h = calloc(1, sizeof *h);
	if (!h || !(h->ctx = EVP_MD_CTX_new())) {
		free(h);
		return OCI_ENOMEM_SET();
	}
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		oci_sha256_free(h);
		return oci_error_set(OCI_ERROR, "cannot initialise SHA-256");
	}
	*out = h;
	return 0;
}

int oci_sha256_update(oci_sha256 *h, const void *data, size_t len)
{
	if (EVP_DigestUpdate(h->ctx, data, len) != 1)
		return oci_error_set(OCI_ERROR, "SHA-256 update failed");
	return 0;
}

int oci_sha256_final(char out[OCI_DIGEST_SIZE], oci_sha256 *h)
{
	unsigned char md[32];
	unsigned int n = 0;
	if (EVP_DigestFinal_ex(h->ctx, md, &n) != 1 || n != 32)
		return oci_error_set(OCI_ERROR, "SHA-256 final failed");
	static const char hex[] = "0123456789abcdef";
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++) {
		out[7 + 2 * i] = hex[md[i] >> 4];
		out[8 + 2 * i] = hex[md[i] & 15];
	}
	out[OCI_DIGEST_LEN] = '\0';
	return 0;
}

int oci_sha256_reset(oci_sha256 *h)
{
	if (EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		return oci_error_set(OCI_ERROR, "cannot initialise SHA-256");
	return 0;
}

void oci_sha256_free(oci_sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int oci_digest_validate(const char *s)
{
	if (!s || !*s)
		return oci_error_set(OCI_EINVALID, "empty digest");
	if (strncmp(s, "sha256:", 7) != 0) {
		const char *colon = strchr(s, ':');
		if (colon)
			return oci_error_set(OCI_EINVALID, "unsupported digest algorithm in '%.80s' (only sha256)", s);
		return oci_error_set(OCI_EINVALID, "digest '%.80s' lacks the 'sha256:' prefix", s);
	}
	size_t n = 0;
	for (const char *p = s + 7; *p; p++, n++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return oci_error_set(OCI_EINVALID, "digest '%.80s' has a character that is not lowercase hex", s);
	}
	if (n != 64)
		return oci_error_set(OCI_EINVALID, "digest '%.80s' has %zu hex digits, sha256 needs 64", s, n);
	return 0;
}

int oci_digest_buf(char out[OCI_DIGEST_SIZE], const void *data, size_t len)
{
	oci_sha256 *h = NULL;
	int rc = oci_sha256_new(&h);
	if (rc == 0)
		rc = oci_sha256_update(h, data, len);
	if (rc == 0)
		rc = oci_sha256_final(out, h);
	oci_sha256_free(h);
	return rc;
}

int oci_digest_file(char out[OCI_DIGEST_SIZE], int64_t *size, const char *path)
{
	oci_istream *s;
	int rc = oci_istream_file(&s, path);
	if (rc < 0)
		return rc;
	rc = oci_istream_digest(out, size, s);
	oci_istream_close(s);
	return rc;
}

const char *oci_digest_hex(const char *d)
{
	const char *colon = strchr(d, ':');
	return colon ? colon + 1 : d;
}
