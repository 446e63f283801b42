/* The CLI side of signing for push/pull: loading keys (asking for the
 * password the way cosign does) and adapting liboci's verifier. */
#ifndef OCISYNC_SIGNING_H
#define OCISYNC_SIGNING_H
#include "cli.h"

typedef struct cli_signer cli_signer;
typedef struct cli_verifier cli_verifier;

/* Loads a private key (COSIGN_PASSWORD or a terminal prompt for encrypted
 * ones). Returns 0 or an exit code, having printed the error. */
int cli_signer_open(cli *c, cli_signer **out, const char *key_path);
/* Signs digest on t: the cosign .sig tag, or with bundle a Sigstore bundle
 * attached as a referrer (cosign v3's format); 0 or an exit code. */
int cli_signer_sign(cli *c, cli_signer *s, oci_target *t, const char *digest, const oci_kvlist *annotations,
		    int bundle);
/* Parses --signature-format: 0 sig, 1 bundle, -1 unknown. */
int cli_signature_format(const char *s);
void cli_signer_close(cli_signer *s);

/* A verifier over public key files (and -a annotations, may be NULL). */
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
