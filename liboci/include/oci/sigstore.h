/* Sigstore bundles (protobuf-specs Bundle v0.3, JSON form) signed with a
 * key, as cosign v3 `sign --key` writes them for an image and attaches them
 * as an OCI 1.1 referrer (cosign specs/BUNDLE_SPEC.md; cosign
 * cmd/cosign/cli/sign/sign.go signDigestBundle and
 * pkg/oci/remote/write.go WriteAttestationNewBundleFormat):
 *
 *   bundle   {"mediaType": OCI_MT_SIGSTORE_BUNDLE,
 *             "verificationMaterial": {"publicKey": {"hint": base64(sha256(SPKI DER))}},
 *             "dsseEnvelope": {"payload": base64(statement),
 *                              "payloadType": "application/vnd.in-toto+json",
 *                              "signatures": [{"sig": base64(ECDSA-P256-SHA256(PAE))}]}}
 *   statement in-toto Statement v1: {"_type": "https://in-toto.io/Statement/v1",
 *             "subject": [{"digest": {"sha256": HEX}, "annotations": {...}}],
 *             "predicateType": "https://sigstore.dev/cosign/sign/v1", "predicate": {}}
 *   referrer an image manifest with artifactType OCI_MT_SIGSTORE_BUNDLE, the
 *            empty config, one layer of that media type holding the bundle,
 *            "subject" the signed manifest, and the annotations
 *            dev.sigstore.bundle.content=dsse-envelope,
 *            dev.sigstore.bundle.predicateType=<predicate type>,
 *            org.opencontainers.image.created.
 *
 * Verification is offline and keyed: only the caller's keys are trusted, and
 * a bundle must bind the exact manifest digest. Transparency-log entries and
 * timestamps in a bundle are neither required nor checked (Rekor is never
 * contacted); a bundle that carries a certificate (keyless) is refused.
 * Thread-safety: reentrant; keys may be shared, a target is used by one
 * thread at a time. Buffers filled here are the caller's (oci_buf_dispose). */
#ifndef OCI_SIGSTORE_H
#define OCI_SIGSTORE_H
#include "oci/common.h"
#include <stddef.h>
#include "oci/io.h"
#include "oci/key.h"
#include "oci/target.h"

#ifdef __cplusplus
extern "C" {
#endif

#define OCI_MT_SIGSTORE_BUNDLE "application/vnd.dev.sigstore.bundle.v0.3+json"
#define OCI_INTOTO_PAYLOAD_TYPE "application/vnd.in-toto+json"
#define OCI_INTOTO_STATEMENT_V1 "https://in-toto.io/Statement/v1"
#define OCI_COSIGN_SIGN_PREDICATE "https://sigstore.dev/cosign/sign/v1"
#define OCI_BUNDLE_CONTENT_ANNOTATION "dev.sigstore.bundle.content"
#define OCI_BUNDLE_PREDICATE_ANNOTATION "dev.sigstore.bundle.predicateType"
/* Bundles larger than this are refused when verifying. */
#define OCI_SIGSTORE_BUNDLE_MAX (1024 * 1024)

/* The bundle JSON signing digest with key (annotations go to the
 * statement's subject, as cosign puts them), appended to out. 0,
 * OCI_EINVALID (a public-only key or a malformed digest). */
OCI_EXTERN int oci_sigstore_bundle_build(oci_buf *out, const oci_key *key, const char *digest, const oci_kvlist *annotations);

/* Verifies a bundle document offline: 0 and *key_index when one of keys
 * verifies its signature and it binds digest (with every annotation);
 * otherwise OCI_EVERIFY with the reason ("keyless is not supported", "does
 * not verify", "is for sha256:..., not ..."), OCI_EINVALID for a malformed
 * bundle. */
OCI_EXTERN int oci_sigstore_bundle_verify(size_t *key_index, const void *bundle, size_t len, const oci_key *const *keys,
			       size_t nkeys, const char *digest, const oci_kvlist *annotations);

/* Signs digest (a manifest stored on t) with key and attaches the bundle as
 * a referrer, as cosign v3 does. A bundle referrer that already verifies
 * with this key (and carries the annotations) is kept instead: *added = 0
 * and referrer_out names it (DSSE signatures are randomised, so signing
 * again would otherwise add a bundle on every run). referrer_out and added
 * may be NULL. Returns 0, or as oci/target.h. */
OCI_EXTERN int oci_sign_digest_bundle(char referrer_out[OCI_DIGEST_SIZE], int *added, oci_target *t, const char *digest,
			   const oci_key *key, const oci_kvlist *annotations);

/* Finds the bundle referrers of digest on t and verifies them (at most a
 * bounded number): 0 and *key_index, referrer_out the referrer that
 * verified; OCI_ENOTFOUND when there is none; OCI_EVERIFY with each
 * bundle's reason otherwise. */
OCI_EXTERN int oci_sigstore_verify_referrers(size_t *key_index, char referrer_out[OCI_DIGEST_SIZE], oci_target *t,
				  const char *digest, const oci_key *const *keys, size_t nkeys,
				  const oci_kvlist *annotations);

#ifdef __cplusplus
}
#endif
#endif
