/* DSSE (Dead Simple Signing Envelope), the envelope a Sigstore bundle's
 * "dsseEnvelope" is: the signature covers the pre-authentication encoding
 * PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
 * LEN in ASCII decimal without leading zeros
 * (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md). */
#ifndef OCI_DSSE_H
#define OCI_DSSE_H
#include "oci/common.h"
#include <stddef.h>
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Appends PAE(payload_type, payload) to out (the caller's buffer; dispose
 * with oci_buf_dispose). 0, OCI_ENOMEM. Thread-safe. */
OCI_EXTERN int oci_dsse_pae(oci_buf *out, const char *payload_type, const void *payload, size_t len);

#ifdef __cplusplus
}
#endif
#endif
