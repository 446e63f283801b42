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

#endif
