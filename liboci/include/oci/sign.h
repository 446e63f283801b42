/* cosign-compatible keyed signatures of manifests, stored as cosign stores
 * them: tag "sha256-<hex>.sig" in the same repository, an OCI image manifest
 * with one application/vnd.dev.cosign.simplesigning.v1+json layer per
 * signature (the payload) and the base64 DER signature in the layer
 * annotation dev.cosignproject.cosign/signature.
 * Thread-safety: reentrant; a target and a verifier are each used by one
 * thread at a time; keys may be shared. Returns: 0, OCI_EVERIFY, or as
 * oci/target.h for the target's errors. */
#ifndef OCI_SIGN_H
#define OCI_SIGN_H
#include "oci/common.h"
#include "oci/io.h"
#include "oci/key.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCI_COSIGN_SIGNATURE_ANNOTATION "dev.cosignproject.cosign/signature"
#define OCI_COSIGN_PAYLOAD_TYPE "cosign container image signature"
/* Payload blobs larger than this are refused when verifying. */
#define OCI_COSIGN_PAYLOAD_MAX (1024 * 1024)

/* The simple-signing payload cosign writes:
 * {"critical":{"identity":{"docker-reference":REF},"image":{"docker-manifest-digest":DIGEST},
 *  "type":"cosign container image signature"},"optional":null | {sorted annotations}}
 * appended to out (caller disposes). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_simplesigning_build(oci_buf *out, const char *docker_reference, const char *digest,
			    const oci_kvlist *annotations);

/* The docker-reference cosign would write for a target: "host/repo"
 * ("index.docker.io/..." for Docker Hub); for an oci-layout: target the
 * layout's name (the last component of its path: "store" for
 * oci-layout:/srv/ci/store), never the machine's path. Verification does
 * not depend on it. *out: caller frees with free(). */
OCI_EXTERN int oci_sign_docker_reference(char **out, const oci_target *t);

/* Signs digest (a manifest stored in t) with key and stores the signature on
 * t: appended to the existing signatures, unchanged when the same signature
 * is already there. */
OCI_EXTERN int oci_sign_digest(oci_target *t, const char *digest, const oci_key *key, const oci_kvlist *annotations);
/* The same, telling whether a layer was added (0: it was already there). */
OCI_EXTERN int oci_sign_digest_ex(int *added, oci_target *t, const char *digest, const oci_key *key,
		       const oci_kvlist *annotations);

/* The cosign signature tag for a digest: "sha256-<hex>.sig". *out: caller
 * frees with free(). Returns 0, or OCI_EINVALID for a malformed digest.
 * Thread-safe. */
OCI_EXTERN int oci_signature_tag(char **out, const char *digest);

/* Verification against a set of trusted public keys (never a key found in
 * the artifact) and required annotations. */
typedef struct oci_verifier oci_verifier;
/* *out: caller frees with oci_verifier_free. 0, OCI_ENOMEM. */
OCI_EXTERN int oci_verifier_new(oci_verifier **out);
/* Adds the public key at pub_path (as oci_key_load_public; the path is
 * copied and named in messages). 0, OCI_ENOTFOUND, OCI_EINVALID. */
OCI_EXTERN int oci_verifier_add_key_file(oci_verifier *v, const char *pub_path);
/* Takes its own reference to key's public half; name is used in messages. */
OCI_EXTERN int oci_verifier_add_key(oci_verifier *v, const oci_key *key, const char *name);
/* Every KEY=VALUE must be present in the payload's "optional" object
 * (annotations copied). 0, OCI_ENOMEM. */
OCI_EXTERN int oci_verifier_set_annotations(oci_verifier *v, const oci_kvlist *annotations);
/* 0 when a signature stored on t for digest verifies with one of the keys
 * (a cosign .sig layer, or a Sigstore bundle attached as a referrer:
 * oci/sigstore.h),
 * names digest and carries the annotations; *key_path_out (may be NULL)
 * then points at the key's path (belongs to v). OCI_EVERIFY otherwise, with
 * a message saying why for each signature. */
OCI_EXTERN int oci_verifier_verify(const char **key_path_out, oci_verifier *v, oci_target *t, const char *digest);
/* What the last successful oci_verifier_verify used: "signature tag
 * sha256-<hex>.sig" or "Sigstore bundle referrer sha256:<hex>" (belongs to
 * v; NULL before a success). */
OCI_EXTERN const char *oci_verifier_source(const oci_verifier *v);
/* Each signature the last oci_verifier_verify judged, in order (none when
 * there were none to judge). The strings belong to v until its next
 * verification. */
typedef struct oci_verify_attempt {
	const char *kind;   /* "sig" (a layer of cosign's .sig tag) or "bundle" (a Sigstore bundle referrer) */
	const char *where;  /* the signature payload's digest, or the bundle referrer's manifest digest */
	const char *key;    /* the key (as added) that verified it; NULL when none did */
	const char *reason; /* why it was refused; NULL when it verified */
} oci_verify_attempt;
OCI_EXTERN size_t oci_verifier_attempts(const oci_verify_attempt **out, const oci_verifier *v);
/* oci_verifier_verify as an oci_verify_fn (pull.h) for pull and sync
 * (ctx: the oci_verifier). */
OCI_EXTERN int oci_verifier_check(void *ctx, oci_target *t, const char *digest);
/* The set of trusted keys as text: the sha256 of each public key's DER
 * SubjectPublicKeyInfo, sorted and joined by ",". It changes when a key is
 * added or removed and not when a key file is merely moved or reformatted
 * (sync remembers it to notice revocations). Caller frees *out. */
OCI_EXTERN int oci_verifier_fingerprint(char **out, const oci_verifier *v);
/* NULL-safe. */
OCI_EXTERN void oci_verifier_free(oci_verifier *v);

#ifdef __cplusplus
}
#endif
#endif
