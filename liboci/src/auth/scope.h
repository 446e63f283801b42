/* Private: the algebra of distribution token scopes ("resource:actions"
 * items separated by spaces, e.g. "repository:team/app:pull,push
 * repository:team/base:pull"). Pure string functions: no I/O, no state. */
#ifndef OCI_SCOPE_H
#define OCI_SCOPE_H
#include <stddef.h>

/* The union of a and b (either may be NULL or ""), normalised: one item per
 * resource, in order of first appearance, its actions the union of every
 * item's for that resource, in order of first appearance, without
 * duplicates or empty items. Caller frees; NULL on allocation failure. */
char *oci_scope_merge(const char *a, const char *b);
/* 1 when a token issued for have also grants everything want asks for (a
 * push token serves the pulls of the same repository, a mount token the
 * plain push; "*" grants every action). An empty want is covered by
 * nothing but an empty have. */
int oci_scope_covers(const char *have, const char *want);
/* The repository and actions of the first item of scope when it is a
 * "repository:NAME:ACTIONS" item: 1 with name and actions copied
 * (NUL-terminated; one too long for its buffer: 0), else 0. */
int oci_scope_first_repository(char *name, size_t name_n, char *actions, size_t actions_n, const char *scope);

#endif
