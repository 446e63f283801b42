/* Private: WWW-Authenticate parsing (RFC 7235 section 4.1). A header value
 * holds one or more challenges; a response may carry several headers, whose
 * values are parsed into one list. */
#ifndef OCI_CHALLENGE_H
#define OCI_CHALLENGE_H
#include <stddef.h>

typedef struct oci_challenge_param {
	char *name;   /* lower-cased: parameter names are case-insensitive */
	char *value;  /* unquoted, escapes resolved */
} oci_challenge_param;

typedef struct oci_challenge {
	char *scheme; /* lower-cased ("bearer", "basic") */
	char *token68; /* "Scheme abc==" form, else NULL */
	oci_challenge_param *params;
	size_t nparams;
} oci_challenge;

typedef struct oci_challenge_list {
	oci_challenge *items;
	size_t n;
} oci_challenge_list;
#define OCI_CHALLENGE_LIST_INIT { NULL, 0 }

/* Appends the challenges of one header value to list. OCI_EINVALID when the
 * value is malformed (what was parsed before the fault is kept). */
int oci_challenge_parse(oci_challenge_list *list, const char *header);
/* A parameter's value by (case-insensitive) name, or NULL. */
const char *oci_challenge_param_get(const oci_challenge *c, const char *name);
/* The challenge to answer: Bearer when offered (a token is scoped and
 * short-lived), else Basic; NULL when neither is offered. */
const oci_challenge *oci_challenge_pick(const oci_challenge_list *list);
/* Schemes offered, comma-separated, for messages ("negotiate, ntlm"). */
void oci_challenge_schemes(char *buf, size_t n, const oci_challenge_list *list);
void oci_challenge_list_dispose(oci_challenge_list *list);

#endif
