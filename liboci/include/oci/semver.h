/* Semantic versions (semver 2.0.0) and npm-style ranges, for picking a tag:
 * `sync --semver` and `tags --semver`.
 * Thread-safety: reentrant; a parsed range is read-only and may be shared. */
#ifndef OCI_SEMVER_H
#define OCI_SEMVER_H
#include "oci/common.h"
#include <stddef.h>
#include "oci/io.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A parsed version. pre is the pre-release ("rc.1") or NULL; build metadata
 * is dropped (it never takes part in precedence). Free with
 * oci_semver_dispose. */
typedef struct oci_semver {
	unsigned long long major, minor, patch;
	char *pre;
} oci_semver;

/* Parses "MAJOR.MINOR.PATCH[-PRE][+BUILD]" with an optional leading "v" or
 * "V" (a common tag style). Strict: no leading zeros, all three numbers.
 * OCI_EINVALID naming the string otherwise. out: caller disposes with
 * oci_semver_dispose. */
OCI_EXTERN int oci_semver_parse(oci_semver *out, const char *s);
/* NULL-safe. */
OCI_EXTERN void oci_semver_dispose(oci_semver *v);
/* <0, 0, >0 by semver 2.0.0 precedence (a pre-release sorts before its
 * release; numeric identifiers below alphanumeric ones). */
OCI_EXTERN int oci_semver_compare(const oci_semver *a, const oci_semver *b);

/* A range, npm syntax:
 *   "||" separates alternatives; inside one, comparators separated by
 *   spaces all apply (AND): ">=1.2.0 <2.0.0".
 *   Comparators: "=1.2.3", "1.2.3", "<", "<=", ">", ">=" with full or
 *   partial versions ("1", "1.2", "1.x", "1.2.*", "*");
 *   "~1.2.3" (>=1.2.3 <1.3.0), "~1.2", "~1";
 *   "^1.2.3" (>=1.2.3 <2.0.0), "^0.2.3" (<0.3.0), "^0.0.3" (<0.0.4), "^1.2";
 *   hyphen ranges "1.2.3 - 2.3".
 * Pre-releases match only when a comparator of the same alternative names a
 * pre-release of the same MAJOR.MINOR.PATCH (npm's rule): ">=1.2.3-rc.1"
 * admits 1.2.3-rc.2 but not 1.2.4-rc.1. */
typedef struct oci_semver_range oci_semver_range;
/* *out: caller frees with oci_semver_range_free. OCI_EINVALID naming the
 * range (and the bad part) when malformed. */
OCI_EXTERN int oci_semver_range_parse(oci_semver_range **out, const char *range);
/* 1 when v satisfies the range, else 0. */
OCI_EXTERN int oci_semver_range_match(const oci_semver_range *r, const oci_semver *v);
/* NULL-safe. */
OCI_EXTERN void oci_semver_range_free(oci_semver_range *r);

/* The tags (those that parse as versions; others are ignored) that satisfy
 * range, sorted ascending by precedence (ties — "v1.2.3" and "1.2.3" — by
 * tag text). out is appended to; the caller disposes it. */
OCI_EXTERN int oci_semver_filter(oci_strlist *out, const oci_strlist *tags, const char *range);
/* The highest tag satisfying range (caller frees). OCI_ENOTFOUND naming the
 * range when none does; OCI_EINVALID when the range is malformed. *best_tag:
 * caller frees with free(). */
OCI_EXTERN int oci_semver_select(char **best_tag, const oci_strlist *tags, const char *range);

#ifdef __cplusplus
}
#endif
#endif
