/* Small containers shared by every module. */
#include "oci/io.h"
#include "error_internal.h"

#include <stdlib.h>
#include <string.h>

int oci_buf_append(oci_buf *b, const void *data, size_t len)
{
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p)
			return OCI_ENOMEM_SET();
		b->data = p;
		b->cap = cap;
	}
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

void oci_buf_dispose(oci_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int oci_buf_sink_write(void *ctx, const void *data, size_t len)
{
	oci_buf_sink *s = ctx;
	if (s->limit && s->buf.len + len > s->limit)
		return oci_error_set(OCI_ELIMIT, "%s is larger than the limit of %zu bytes",
				     s->what ? s->what : "document", s->limit);
	return oci_buf_append(&s->buf, data, len);
}

ssize_t oci_mem_source_read(void *ctx, void *buf, size_t len)
{
	oci_mem_source *m = ctx;
	size_t n = m->len - m->off < len ? m->len - m->off : len;
	memcpy(buf, (const char *)m->data + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

int oci_strlist_push(oci_strlist *l, const char *s)
{
	char **items = realloc(l->items, (l->n + 1) * sizeof *items);
	if (!items)
		return OCI_ENOMEM_SET();
	l->items = items;
	if (!(l->items[l->n] = strdup(s)))
		return OCI_ENOMEM_SET();
	l->n++;
	return 0;
}

void oci_strlist_dispose(oci_strlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

int oci_kvlist_set(oci_kvlist *l, const char *key, const char *value)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i].key, key) == 0) {
			char *v = strdup(value);
			if (!v)
				return OCI_ENOMEM_SET();
			free(l->items[i].value);
			l->items[i].value = v;
			return 0;
		}
	}
	oci_kv *items = realloc(l->items, (l->n + 1) * sizeof *items);
	if (!items)
		return OCI_ENOMEM_SET();
	l->items = items;
	l->items[l->n].key = strdup(key);
	l->items[l->n].value = strdup(value);
	if (!l->items[l->n].key || !l->items[l->n].value) {
		free(l->items[l->n].key);
		free(l->items[l->n].value);
		return OCI_ENOMEM_SET();
	}
	l->n++;
	return 0;
}

const char *oci_kvlist_get(const oci_kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

int oci_kvlist_set_pair(oci_kvlist *l, const char *pair)
{
	const char *eq = strchr(pair, '=');
	if (!eq || eq == pair)
		return oci_error_set(OCI_EINVALID, "annotation '%s' is not KEY=VALUE", pair);
	char *key = strndup(pair, (size_t)(eq - pair));
	if (!key)
		return OCI_ENOMEM_SET();
	int rc = oci_kvlist_set(l, key, eq + 1);
	free(key);
	return rc;
}

void oci_kvlist_dispose(oci_kvlist *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->n = 0;
}
