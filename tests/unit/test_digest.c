#include <fcntl.h>
#include <unistd.h>

#include "oci/oci.h"
#include "test.h"

static void test_known_values(void)
{
	char d[OCI_DIGEST_SIZE];
	CHECK_EQ_INT(oci_digest_buf(d, "", 0), 0);
	CHECK_STR(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	CHECK_EQ_INT(oci_digest_buf(d, "{}", 2), 0);
	CHECK_STR(d, OCI_EMPTY_DIGEST);
}

static void test_streaming_equals_oneshot(void)
{
	char a[OCI_DIGEST_SIZE], b[OCI_DIGEST_SIZE];
	static char big[300000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)(i * 31 + 7);
	oci_sha256 *h = NULL;
	CHECK_EQ_INT(oci_sha256_new(&h), 0);
	for (size_t off = 0; off < sizeof big; off += 4097)
		oci_sha256_update(h, big + off, off + 4097 > sizeof big ? sizeof big - off : 4097);
	CHECK_EQ_INT(oci_sha256_final(a, h), 0);
	oci_sha256_free(h);
	oci_digest_buf(b, big, sizeof big);
	CHECK_STR(a, b);

	char path[] = "/tmp/oci-digest-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK_EQ_INT(write(fd, big, sizeof big), (long long)sizeof big);
	close(fd);
	int64_t size = 0;
	CHECK_EQ_INT(oci_digest_file(a, &size, path), 0);
	CHECK_STR(a, b);
	CHECK_EQ_INT(size, (long long)sizeof big);
	unlink(path);
}

static void test_validate(void)
{
	CHECK_EQ_INT(oci_digest_validate(OCI_EMPTY_DIGEST), 0);
	CHECK_EQ_INT(oci_digest_validate("sha256:abc"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("has 3 hex digits");
	CHECK_EQ_INT(oci_digest_validate("sha512:abc"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("unsupported digest algorithm");
	CHECK_EQ_INT(oci_digest_validate("sha256:44136FA355B3678A1146AD16F7E8649E94FB4FC21FE77E8310C060F61CAAFF8A"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not lowercase hex");
	CHECK_EQ_INT(oci_digest_validate("44136fa3"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("lacks the 'sha256:' prefix");
	CHECK_EQ_INT(oci_digest_file((char[OCI_DIGEST_SIZE]){ 0 }, NULL, "/nonexistent/x"), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("/nonexistent/x");
}

int main(void)
{
	RUN(test_known_values);
	RUN(test_streaming_equals_oneshot);
	RUN(test_validate);
	TEST_END();
}
