/* Keys: every shared cosign vector decrypts (or is refused as cosign
 * refuses it), generated keys round-trip, files are written safely. */
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include "key_internal.h"
#include "oci/oci.h"
#include "test.h"

static char *data_path(const char *rel)
{
	static char buf[8][1024];
	static int i;
	const char *td = getenv("TESTDATA");
	char *p = buf[i++ % 8];
	snprintf(p, 1024, "%s/cosign/%s", td ? td : "testdata", rel);
	return p;
}

static int slurp(oci_buf *out, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		oci_buf_append(out, chunk, n);
	fclose(f);
	return 0;
}

/* The public half of k, PEM-encoded, equals the .pub file. */
static void check_pub_matches(const oci_key *k, const char *pub_rel)
{
	oci_buf mine = OCI_BUF_INIT, theirs = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_key_encode_public(&mine, k), 0);
	CHECK_EQ_INT(slurp(&theirs, data_path(pub_rel)), 0);
	CHECK_STR(mine.data, theirs.data);
	oci_buf_dispose(&mine);
	oci_buf_dispose(&theirs);
}

static void test_empty_password_vector(void)
{
	oci_key *k = NULL;
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.key"), ""), 0);
	CHECK(k && oci_key_has_private(k));
	if (k)
		check_pub_matches(k, "keys/empty-password.pub");
	oci_key_free(k);
	int enc = -1;
	CHECK_EQ_INT(oci_key_is_encrypted_file(&enc, data_path("keys/empty-password.key")), 0);
	CHECK_EQ_INT(enc, 1);
}

static void test_password_123_old_label(void)
{
	oci_key *k = NULL;
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/password-123.key"), "123"), 0);
	if (k)
		check_pub_matches(k, "keys/password-123.pub");
	oci_key_free(k);
}

static void test_wrong_password(void)
{
	oci_key *k = NULL;
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/password-123.key"), "1234"), OCI_EPASSWORD);
	CHECK_ERR_CONTAINS("wrong password or corrupt key");
	CHECK_ERR_CONTAINS("password-123.key");
	CHECK(k == NULL);
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.key"), "x"), OCI_EPASSWORD);
	CHECK_ERR_CONTAINS("wrong password or corrupt key");
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.key"), NULL), OCI_EPASSWORD);
	CHECK_ERR_CONTAINS("no password");
}

static void test_sec1_refused(void)
{
	oci_key *k = NULL;
	/* The right password: it decrypts, but the plaintext is SEC1. */
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/sec1-plaintext-reject.key"), "hello"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not PKCS#8");
	CHECK(k == NULL);
	/* The wrong one fails earlier, at the secretbox. */
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/sec1-plaintext-reject.key"), "hellO"), OCI_EPASSWORD);
}

/* The go-securesystemslib vectors: line 1 TestDecrypt, 2-4 kdfVectors, 5 N=99. */
static void test_securesystemslib_vectors(void)
{
	oci_buf file = OCI_BUF_INIT;
	CHECK_EQ_INT(slurp(&file, data_path("keys/securesystemslib-vectors.txt")), 0);
	if (!file.data)
		return;
	const char *expect[] = { "reallyimportant", "\"cmVhbGx5aW1wb3J0YW50\"", "\"cmVhbGx5aW1wb3J0YW50\"",
				 "\"cmVhbGx5aW1wb3J0YW50\"", NULL };
	int idx = 0;
	char *save = NULL;
	for (char *line = strtok_r(file.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '{')
			continue;
		unsigned char *plain = NULL;
		size_t n = 0;
		int rc = oci_cosign_decrypt(&plain, &n, line, strlen(line), "supersecret", "vector");
		if (idx < 4) {
			CHECK_EQ_INT(rc, 0);
			CHECK_EQ_INT(n, strlen(expect[idx]));
			CHECK(plain && memcmp(plain, expect[idx], n) == 0);
			/* and a wrong passphrase never opens it */
			unsigned char *p2 = NULL;
			size_t n2 = 0;
			CHECK_EQ_INT(oci_cosign_decrypt(&p2, &n2, line, strlen(line), "supersecreT", "vector"), OCI_EPASSWORD);
			CHECK_ERR_CONTAINS("wrong password or corrupt key");
		} else {
			/* N=99 r=99 p=99: refused before any scrypt runs */
			CHECK_EQ_INT(rc, OCI_EUNSUPPORTED);
			CHECK_ERR_CONTAINS("unsupported scrypt parameters N=99 r=99 p=99");
			CHECK(plain == NULL);
		}
		oci_cosign_plain_free(plain, n);
		idx++;
	}
	CHECK_EQ_INT(idx, 5);
	oci_buf_dispose(&file);
}

static void test_malformed_encrypted_json(void)
{
	struct { const char *json; int code; const char *msg; } cases[] = {
		{ "not json", OCI_EINVALID, "not a JSON object" },
		{ "{\"kdf\":{\"name\":\"argon2\"}}", OCI_EUNSUPPORTED, "unsupported key derivation 'argon2'" },
		{ "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":2},\"salt\":\"\"}}", OCI_EUNSUPPORTED,
		  "unsupported scrypt parameters N=65536 r=8 p=2" },
		{ "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"AAAA\"},"
		  "\"cipher\":{\"name\":\"aes\",\"nonce\":\"\"},\"ciphertext\":\"\"}", OCI_EUNSUPPORTED, "unsupported cipher 'aes'" },
		{ "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"AAAA\"},"
		  "\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AAAA\"}", OCI_EINVALID,
		  "the nonce has 3 bytes, not 24" },
		{ "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"A!AA\"},"
		  "\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"AAAA\"},\"ciphertext\":\"AAAA\"}", OCI_EINVALID,
		  "\"salt\" is not valid base64" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned char *p = NULL;
		size_t n = 0;
		CHECK_EQ_INT(oci_cosign_decrypt(&p, &n, cases[i].json, strlen(cases[i].json), "", "case"), cases[i].code);
		CHECK_ERR_CONTAINS(cases[i].msg);
	}
}

static void test_generate_round_trip(void)
{
	oci_key *k = NULL, *back = NULL;
	oci_buf priv = OCI_BUF_INIT, pub1 = OCI_BUF_INIT, pub2 = OCI_BUF_INIT;
	CHECK_EQ_INT(oci_key_generate(&k), 0);
	CHECK_EQ_INT(oci_key_encode_private(&priv, k, "s3cret pass"), 0);
	CHECK(strncmp(priv.data, "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n", 47) == 0);
	/* Wrapped at 64 columns like Go's pem.Encode. */
	char *line2 = strchr(priv.data, '\n') + 1;
	CHECK(strchr(line2, '\n') - line2 == 64);
	CHECK_EQ_INT(oci_key_parse_private(&back, priv.data, priv.len, "s3cret pass", "generated"), 0);
	CHECK_EQ_INT(oci_key_encode_public(&pub1, k), 0);
	if (back)
		CHECK_EQ_INT(oci_key_encode_public(&pub2, back), 0);
	CHECK_STR(pub1.data, pub2.data);
	CHECK(strncmp(pub1.data, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	oci_key_free(back);
	back = NULL;
	CHECK_EQ_INT(oci_key_parse_private(&back, priv.data, priv.len, "s3cret pasS", "generated"), OCI_EPASSWORD);

	/* The PEM body is the compact JSON cosign writes, with its parameters. */
	char *label = NULL, *header = NULL;
	unsigned char *body = NULL;
	long blen = 0;
	BIO *bio = BIO_new_mem_buf(priv.data, (int)priv.len);
	CHECK_EQ_INT(PEM_read_bio(bio, &label, &header, &body, &blen), 1);
	BIO_free(bio);
	CHECK(body && blen > 0 && strncmp((char *)body, "{\"kdf\":{\"name\":\"scrypt\",\"params\":{\"N\":65536,\"r\":8,\"p\":1},\"salt\":\"", 64) == 0);
	CHECK(body && memmem(body, (size_t)blen, "\"cipher\":{\"name\":\"nacl/secretbox\",\"nonce\":\"", 42) != NULL);
	OPENSSL_free(label);
	OPENSSL_free(header);
	OPENSSL_free(body);

	/* Empty password too (COSIGN_PASSWORD=""). */
	oci_buf_dispose(&priv);
	CHECK_EQ_INT(oci_key_encode_private(&priv, k, ""), 0);
	CHECK_EQ_INT(oci_key_parse_private(&back, priv.data, priv.len, "", "generated"), 0);
	oci_key_free(back);
	oci_key_free(k);
	oci_buf_dispose(&priv);
	oci_buf_dispose(&pub1);
	oci_buf_dispose(&pub2);
}

static void test_plain_pkcs8_and_others(void)
{
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	char *mem = NULL;
	oci_key *k = NULL;
	PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL); /* PKCS#8 "PRIVATE KEY" */
	long n = BIO_get_mem_data(bio, &mem);
	CHECK(strncmp(mem, "-----BEGIN PRIVATE KEY-----", 27) == 0);
	CHECK_EQ_INT(oci_key_parse_private(&k, mem, (size_t)n, NULL, "plain"), 0);
	CHECK(k && oci_key_has_private(k));
	oci_key_free(k);
	k = NULL;
	BIO_free(bio);

	/* SEC1 "EC PRIVATE KEY" is refused, with the conversion to use. */
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey_traditional(bio, pk, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &mem);
	CHECK(strncmp(mem, "-----BEGIN EC PRIVATE KEY-----", 30) == 0);
	CHECK_EQ_INT(oci_key_parse_private(&k, mem, (size_t)n, NULL, "sec1"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not PKCS#8");
	BIO_free(bio);
	EVP_PKEY_free(pk);

	/* Another curve is refused, public or private. */
	pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PUBKEY(bio, pk);
	n = BIO_get_mem_data(bio, &mem);
	CHECK_EQ_INT(oci_key_parse_public(&k, mem, (size_t)n, "p384.pub"), OCI_EUNSUPPORTED);
	CHECK_ERR_CONTAINS("not P-256");
	BIO_free(bio);
	bio = BIO_new(BIO_s_mem());
	PEM_write_bio_PrivateKey(bio, pk, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &mem);
	CHECK_EQ_INT(oci_key_parse_private(&k, mem, (size_t)n, NULL, "p384.key"), OCI_EUNSUPPORTED);
	BIO_free(bio);
	EVP_PKEY_free(pk);

	/* Not a key at all; a private key where a public one belongs. */
	CHECK_EQ_INT(oci_key_parse_public(&k, "hello", 5, "junk.pub"), OCI_EINVALID);
	CHECK_ERR_CONTAINS("junk.pub: no PEM block found");
	CHECK_EQ_INT(oci_key_load_public(&k, data_path("keys/empty-password.key")), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not a \"PUBLIC KEY\"");
	CHECK_EQ_INT(oci_key_load_private(&k, data_path("keys/empty-password.pub"), ""), OCI_EINVALID);
	CHECK_ERR_CONTAINS("not a cosign private key");
	CHECK_EQ_INT(oci_key_load_public(&k, "/nonexistent/cosign.pub"), OCI_ENOTFOUND);
	CHECK_ERR_CONTAINS("/nonexistent/cosign.pub");
}

static void test_sign_verify_with_vectors(void)
{
	oci_key *priv = NULL, *pub = NULL;
	oci_buf sig = OCI_BUF_INIT;
	const char msg[] = "payload bytes";
	CHECK_EQ_INT(oci_key_load_private(&priv, data_path("keys/password-123.key"), "123"), 0);
	CHECK_EQ_INT(oci_key_load_public(&pub, data_path("keys/password-123.pub")), 0);
	if (!priv || !pub)
		return;
	CHECK_EQ_INT(oci_key_sign(&sig, priv, msg, sizeof msg - 1), 0);
	CHECK(sig.len >= 8 && (unsigned char)sig.data[0] == 0x30); /* an ASN.1 DER SEQUENCE */
	CHECK_EQ_INT(oci_key_verify(pub, msg, sizeof msg - 1, sig.data, sig.len), 0);
	CHECK_EQ_INT(oci_key_verify(priv, msg, sizeof msg - 1, sig.data, sig.len), 0);
	CHECK_EQ_INT(oci_key_verify(pub, "payload byteS", sizeof msg - 1, sig.data, sig.len), OCI_EVERIFY);
	sig.data[sig.len - 1] ^= 1;
	CHECK_EQ_INT(oci_key_verify(pub, msg, sizeof msg - 1, sig.data, sig.len), OCI_EVERIFY);
	CHECK_EQ_INT(oci_key_sign(&sig, pub, msg, 3), OCI_EINVALID);
	oci_buf_dispose(&sig);
	oci_key_free(pub);
	pub = NULL;
	/* A signature by one key does not verify with another. */
	CHECK_EQ_INT(oci_key_sign(&sig, priv, msg, sizeof msg - 1), 0);
	CHECK_EQ_INT(oci_key_load_public(&pub, data_path("keys/empty-password.pub")), 0);
	CHECK_EQ_INT(oci_key_verify(pub, msg, sizeof msg - 1, sig.data, sig.len), OCI_EVERIFY);
	oci_key_free(pub);
	oci_key_free(priv);
	oci_buf_dispose(&sig);
}

static void test_write_pair(void)
{
	char dir[] = "/tmp/oci-key-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char kpath[512], ppath[512];
	snprintf(kpath, sizeof kpath, "%s/cosign.key", dir);
	snprintf(ppath, sizeof ppath, "%s/cosign.pub", dir);
	oci_key *k = NULL, *back = NULL;
	CHECK_EQ_INT(oci_key_generate(&k), 0);
	mode_t old = umask(0);
	CHECK_EQ_INT(oci_key_write_pair(k, kpath, ppath, "pw"), 0);
	umask(old);
	struct stat st;
	CHECK_EQ_INT(stat(kpath, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0600);
	CHECK_EQ_INT(stat(ppath, &st), 0);
	CHECK_EQ_INT(st.st_mode & 07777, 0644);
	CHECK_EQ_INT(oci_key_load_private(&back, kpath, "pw"), 0);
	oci_key_free(back);
	back = NULL;
	CHECK_EQ_INT(oci_key_load_public(&back, ppath), 0);
	oci_key_free(back);

	/* Never overwritten: the files keep their content. */
	oci_buf before = OCI_BUF_INIT, after = OCI_BUF_INIT;
	slurp(&before, kpath);
	oci_key *k2 = NULL;
	CHECK_EQ_INT(oci_key_generate(&k2), 0);
	CHECK_EQ_INT(oci_key_write_pair(k2, kpath, ppath, "pw"), OCI_EEXISTS);
	CHECK_ERR_CONTAINS("cosign.key already exists; refusing to overwrite it");
	slurp(&after, kpath);
	CHECK_STR(before.data, after.data);
	/* Only the public file exists: still refused, and no key file is left. */
	char k3[512], p3[512];
	snprintf(k3, sizeof k3, "%s/other.key", dir);
	CHECK_EQ_INT(oci_key_write_pair(k2, k3, ppath, "pw"), OCI_EEXISTS);
	CHECK_ERR_CONTAINS("cosign.pub already exists");
	CHECK(access(k3, F_OK) != 0);
	/* A directory that does not exist: nothing half-written. */
	snprintf(k3, sizeof k3, "%s/missing/x.key", dir);
	snprintf(p3, sizeof p3, "%s/missing/x.pub", dir);
	CHECK(oci_key_write_pair(k2, k3, p3, "pw") < 0);
	CHECK_ERR_CONTAINS("missing/x.key");

	/* A public key cannot be written as a pair. */
	back = NULL;
	CHECK_EQ_INT(oci_key_load_public(&back, ppath), 0);
	snprintf(k3, sizeof k3, "%s/pub-only.key", dir);
	snprintf(p3, sizeof p3, "%s/pub-only.pub", dir);
	CHECK_EQ_INT(oci_key_write_pair(back, k3, p3, "pw"), OCI_EINVALID);
	CHECK(access(k3, F_OK) != 0 && access(p3, F_OK) != 0);
	oci_key_free(back);

	int enc = -1;
	CHECK_EQ_INT(oci_key_is_encrypted_file(&enc, ppath), OCI_EINVALID);
	CHECK_EQ_INT(oci_key_is_encrypted_file(&enc, kpath), 0);
	CHECK_EQ_INT(enc, 1);

	unlink(kpath);
	unlink(ppath);
	rmdir(dir);
	oci_buf_dispose(&before);
	oci_buf_dispose(&after);
	oci_key_free(k);
	oci_key_free(k2);
}

int main(void)
{
	oci_init();
	RUN(test_empty_password_vector);
	RUN(test_password_123_old_label);
	RUN(test_wrong_password);
	RUN(test_sec1_refused);
	RUN(test_securesystemslib_vectors);
	RUN(test_malformed_encrypted_json);
	RUN(test_generate_round_trip);
	RUN(test_plain_pkcs8_and_others);
	RUN(test_sign_verify_with_vectors);
	RUN(test_write_pair);
	TEST_END();
}
