/* Keys and verifiers for every command that signs or verifies (keys.h). */
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "oci/sigstore.h"
#include "password.h"

struct cli_signer {
	oci_key *key;
	const char *path;
};

struct cli_verifier {
	oci_verifier *v;
	const char *used;
};

int cli_key_load_private(cli *c, oci_key **out, const char *path)
{
	int encrypted = 0, rc;
	char *password = NULL;
	*out = NULL;
	if (oci_key_is_encrypted_file(&encrypted, path) < 0)
		return cli_fail(c, NULL); /* the message names the file */
	if (encrypted && (rc = cli_password_read(&password, c, path, 0)) != 0)
		return rc;
	rc = oci_key_load_private(out, path, password);
	cli_password_free(password);
	return rc < 0 ? cli_fail(c, NULL) : 0;
}

int cli_verifier_load(cli *c, oci_verifier **out, const oci_strlist *keys, const oci_kvlist *annotations)
{
	*out = NULL;
	oci_verifier *v = NULL;
	if (oci_verifier_new(&v) < 0)
		return cli_fail(c, NULL);
	for (size_t i = 0; i < keys->n; i++) {
		if (oci_verifier_add_key_file(v, keys->items[i]) < 0) {
			oci_verifier_free(v);
			return cli_fail(c, NULL); /* the message names the file */
		}
	}
	if (annotations && oci_verifier_set_annotations(v, annotations) < 0) {
		oci_verifier_free(v);
		return cli_fail(c, NULL);
	}
	*out = v;
	return 0;
}

int cli_signer_open(cli *c, cli_signer **out, const char *key_path)
{
	*out = NULL;
	cli_signer *s = calloc(1, sizeof *s);
	if (!s)
		return cli_failf(c, OCI_ENOMEM, "out of memory");
	int rc = cli_key_load_private(c, &s->key, key_path);
	if (rc != 0) {
		free(s);
		return rc;
	}
	s->path = key_path;
	*out = s;
	return 0;
}

int cli_signer_sign(cli *c, cli_signer *s, oci_target *t, const char *digest, const oci_kvlist *annotations,
		    int bundle)
{
	if ((bundle ? oci_sign_digest_bundle(NULL, NULL, t, digest, s->key, annotations)
		    : oci_sign_digest(t, digest, s->key, annotations)) < 0)
		return cli_fail(c, "signing");
	return 0;
}

int cli_signature_format(const char *s)
{
	if (!strcmp(s, "sig"))
		return 0;
	if (!strcmp(s, "bundle"))
		return 1;
	return -1;
}

void cli_signer_close(cli_signer *s)
{
	if (!s)
		return;
	oci_key_free(s->key);
	free(s);
}

int cli_verifier_open(cli *c, cli_verifier **out, const oci_strlist *keys, const oci_kvlist *annotations)
{
	*out = NULL;
	cli_verifier *cv = calloc(1, sizeof *cv);
	if (!cv)
		return cli_failf(c, OCI_ENOMEM, "out of memory");
	int rc = cli_verifier_load(c, &cv->v, keys, annotations);
	if (rc != 0) {
		free(cv);
		return rc;
	}
	*out = cv;
	return 0;
}

/* Records which key verified, for the output. */
static int verify_cb(void *ctx, oci_target *t, const char *digest)
{
	cli_verifier *cv = ctx;
	return oci_verifier_verify(&cv->used, cv->v, t, digest);
}

void cli_verifier_attach(cli_verifier *v, oci_verify_fn *fn, void **ctx)
{
	*fn = verify_cb;
	*ctx = v;
}

const char *cli_verifier_key_used(const cli_verifier *v) { return v ? v->used : NULL; }

const char *cli_verifier_source(const cli_verifier *v) { return v ? oci_verifier_source(v->v) : NULL; }

void cli_verifier_close(cli_verifier *v)
{
	if (!v)
		return;
	oci_verifier_free(v->v);
	free(v);
}
