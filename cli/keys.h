/* The one place the CLI loads keys and verifiers: private keys for sign and
 * push --sign-key (asking for the password the way cosign does), public
 * keys for verify, pull and sync --verify-key, and the adapters that hand
 * them to liboci's operations. */
#ifndef OCISYNC_KEYS_H
#define OCISYNC_KEYS_H
#include "cli.h"
#include "oci/key.h"
#include "oci/sign.h"

/* Loads a private key, asking for its password only when the file is
 * encrypted (COSIGN_PASSWORD, else a prompt on the terminal). 0, or an
 * exit code after printing why; nothing is contacted before. */
int cli_key_load_private(cli *c, oci_key **out, const char *path);

/* A verifier trusting the public key files keys (and requiring the
 * annotations, may be NULL). 0, or an exit code after printing why. */
int cli_verifier_load(cli *c, oci_verifier **out, const oci_strlist *keys, const oci_kvlist *annotations);

typedef struct cli_signer cli_signer;
typedef struct cli_verifier cli_verifier;

/* A private key ready to sign after an operation (push --sign-key). */
int cli_signer_open(cli *c, cli_signer **out, const char *key_path);
/* Signs digest on t: the cosign .sig tag, or with bundle a Sigstore bundle
 * attached as a referrer (cosign v3's format); 0 or an exit code. */
int cli_signer_sign(cli *c, cli_signer *s, oci_target *t, const char *digest, const oci_kvlist *annotations,
		    int bundle);
/* Parses --signature-format: 0 sig, 1 bundle, -1 unknown. */
int cli_signature_format(const char *s);
void cli_signer_close(cli_signer *s);

/* A verifier for pull's options, remembering which key verified. */
int cli_verifier_open(cli *c, cli_verifier **out, const oci_strlist *keys, const oci_kvlist *annotations);
/* Sets an oci_verify_fn and its context for pull/sync options. */
void cli_verifier_attach(cli_verifier *v, oci_verify_fn *fn, void **ctx);
/* The key file that verified, after a successful verification, or NULL. */
const char *cli_verifier_key_used(const cli_verifier *v);
/* Which signature verified ("signature tag ..." / "Sigstore bundle
 * referrer ..."), or NULL. */
const char *cli_verifier_source(const cli_verifier *v);
void cli_verifier_close(cli_verifier *v);

#endif
