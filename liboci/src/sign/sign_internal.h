/* Private: what sign.c and verify.c share (simplesigning.c implements it). */
#ifndef OCI_SIGN_INTERNAL_H
#define OCI_SIGN_INTERNAL_H
#include <jansson.h>
#include <stddef.h>
#include "oci/sign.h"

/* The time Go's zero time.Time marshals to: what cosign writes in the
 * signature image's config. */
#define OCI_COSIGN_ZERO_TIME "0001-01-01T00:00:00Z"

/* 0 when payload (a simple-signing JSON document) names digest, has cosign's
 * type and carries every annotation in its "optional" object; OCI_EVERIFY
 * with the reason otherwise. */
int oci_simplesigning_check(const void *payload, size_t len, const char *digest, const oci_kvlist *annotations);

/* The config blob cosign writes for a signature image whose layers
 * (a JSON array of descriptors) are given: one diff_id and one history
 * entry per layer, compact, in go-containerregistry's field order. */
int oci_cosign_sig_config(oci_buf *out, json_t *layers);

/* Parses a .sig manifest: a JSON object with a "layers" array, not an
 * index. OCI_EINVALID ".sig manifest ... is not valid: why" otherwise. */
int oci_cosign_sig_manifest_parse(json_t **out, const void *data, size_t len, const char *tag);

/* Each signature a verification tried, as it is judged: kind "sig" (a
 * layer of the .sig tag) or "bundle" (a Sigstore bundle referrer), where
 * the payload or referrer digest, key_index the key that verified it or
 * (size_t)-1, reason NULL when it verified. */
typedef void (*oci__verify_note_fn)(void *ctx, const char *kind, const char *where, size_t key_index,
				    const char *reason);
/* oci_sigstore_verify_referrers, telling note (may be NULL) each bundle's verdict. */
int oci__sigstore_verify_referrers_noted(size_t *key_index, char referrer_out[OCI_DIGEST_SIZE], oci_target *t,
					 const char *digest, const oci_key *const *keys, size_t nkeys,
					 const oci_kvlist *annotations, oci__verify_note_fn note, void *note_ctx);

#endif
