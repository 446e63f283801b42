#include <stdlib.h>
#include <string.h>

#include "oci/key.h"
#include "oci/sign.h"
#include "oci/sigstore.h"
#include "password.h"
#include "signing.h"

struct cli_signer {
	oci_key *key;
	const char *path;
};

struct cli_verifier {
	oci_verifier *v;
	const char *used;
};

int cli_signer_open(cli *c, cli_signer **out, const char *key_path)
{
	*out = NULL;
	int encrypted = 0;
	char *password = NULL;
	if (oci_key_is_encrypted_file(&encrypted, key_path) < 0)
		return cli_fail(c, key_path);
	if (encrypted && cli_password_read(&password, c, key_path, 0) != 0)
		return EXIT_FAIL;
	cli_signer *s = calloc(1, sizeof *s);
	if (!s) {
		cli_password_free(password);
		return EXIT_FAIL;
	}
	int rc = oci_key_load_private(&s->key, key_path, password);
	cli_password_free(password);
	if (rc < 0) {
		free(s);
		return cli_fail(c, key_path);
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
	if (!cv || oci_verifier_new(&cv->v) < 0) {
		free(cv);
		return cli_fail(c, "verifier");
	}
	for (size_t i = 0; i < keys->n; i++) {
		if (oci_verifier_add_key_file(cv->v, keys->items[i]) < 0) {
			cli_verifier_close(cv);
			return cli_fail(c, keys->items[i]);
		}
	}
	if (annotations && oci_verifier_set_annotations(cv->v, annotations) < 0) {
		cli_verifier_close(cv);
		return cli_fail(c, "annotations");
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
