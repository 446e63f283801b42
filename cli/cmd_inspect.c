/* ocisync inspect REF: a human summary of an artifact. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "oci/referrers.h"
#include "oci/sigstore.h"

static json_t *kv_json(const oci_kvlist *l)
{
	json_t *o = json_object();
	for (size_t i = 0; i < l->n; i++)
		json_object_set_new(o, l->items[i].key, json_string(l->items[i].value));
	return o;
}

static json_t *desc_json(const oci_descriptor *d)
{
	json_t *o = json_pack("{s:s, s:s, s:I}", "mediaType", d->media_type, "digest", d->digest, "size", (json_int_t)d->size);
	if (d->annotations.n)
		json_object_set_new(o, "annotations", kv_json(&d->annotations));
	return o;
}

static int cmd_inspect(cli *c, int argc, char **argv)
{
	cli_args a;
	if (cli_args_operands_only(&a, c, &cli_cmd_inspect, argc, argv) < 0)
		return a.rc;
	if (a.nargs != 1)
		return cli_usage_error(c, "inspect takes one REF");
	oci_ref *ref = NULL;
	oci_target *t = NULL;
	int rc = cli_open_target(c, a.args[0], &ref, &t);
	if (rc)
		return rc;
	oci_buf b = OCI_BUF_INIT, sb = OCI_BUF_INIT;
	char *mt = NULL, *sigtag = NULL, *pinned = NULL, *smt = NULL;
	char digest[OCI_DIGEST_SIZE];
	oci_manifest *m = NULL, *sm = NULL;
	if (oci_resolve_ref(digest, NULL, t) < 0 || oci_target_manifest_get(&b, &mt, NULL, t, digest) < 0 ||
	    oci_manifest_parse(&m, b.data, b.len, mt) < 0) {
		rc = cli_fail(c, a.args[0]);
		goto cleanup;
	}
	/* Signatures: the cosign tag beside the digest, one layer each. */
	long nsigs = 0;
	oci_signature_tag(&sigtag, digest);
	int r = oci_target_manifest_get(&sb, &smt, NULL, t, sigtag);
	if (r == 0 && oci_manifest_parse(&sm, sb.data, sb.len, smt) == 0)
		nsigs = (long)sm->nlayers;
	else if (r < 0 && r != OCI_ENOTFOUND) {
		rc = cli_fail(c, sigtag);
		goto cleanup;
	}
	/* Sigstore bundles attached as referrers (cosign 3's default). */
	oci_referrers refs = OCI_REFERRERS_INIT;
	if (oci_referrers_list(&refs, t, digest, OCI_MT_SIGSTORE_BUNDLE) < 0) {
		rc = cli_fail(c, "listing referrers");
		goto cleanup;
	}
	long nbundles = (long)refs.n;
	oci_referrers_dispose(&refs);
	oci_ref_format_pinned(&pinned, ref, digest);
	if (c->json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:I}", "reference", pinned, "digest", digest, "media_type",
				      m->media_type, "size", (json_int_t)b.len);
		if (m->artifact_type)
			json_object_set_new(o, "artifact_type", json_string(m->artifact_type));
		if (!m->is_index)
			json_object_set_new(o, "config", desc_json(&m->config));
		json_t *layers = json_array();
		for (size_t i = 0; i < m->nlayers; i++)
			json_array_append_new(layers, desc_json(&m->layers[i]));
		json_object_set_new(o, m->is_index ? "manifests" : "layers", layers);
		json_object_set_new(o, "annotations", kv_json(&m->annotations));
		json_object_set_new(o, "signatures", json_integer(nsigs));
		json_object_set_new(o, "bundles", json_integer(nbundles));
		cli_print_json(o);
	} else {
		printf("Reference:     %s\nDigest:        %s\nMedia type:    %s\n", pinned, digest, m->media_type);
		if (m->artifact_type)
			printf("Artifact type: %s\n", m->artifact_type);
		if (!m->is_index)
			printf("Config:        %s (%s, %lld bytes)\n", m->config.media_type, m->config.digest,
			       (long long)m->config.size);
		if (m->annotations.n) {
			printf("Annotations:\n");
			for (size_t i = 0; i < m->annotations.n; i++)
				printf("  %s: %s\n", m->annotations.items[i].key, m->annotations.items[i].value);
		}
		printf("%s:\n", m->is_index ? "Manifests" : "Layers");
		for (size_t i = 0; i < m->nlayers; i++) {
			const oci_descriptor *d = &m->layers[i];
			printf("  %s  %lld bytes  %s\n", d->digest, (long long)d->size, d->media_type);
			for (size_t j = 0; j < d->annotations.n; j++)
				printf("    %s: %s\n", d->annotations.items[j].key, d->annotations.items[j].value);
		}
		printf("Signatures:    %ld%s\n", nsigs, nsigs || nbundles ? "" : " (unsigned)");
		if (nbundles)
			printf("Sigstore bundles: %ld (OCI 1.1 referrers)\n", nbundles);
	}
cleanup:
	oci_manifest_free(m);
	oci_manifest_free(sm);
	free(mt);
	free(smt);
	free(sigtag);
	free(pinned);
	oci_buf_dispose(&b);
	oci_buf_dispose(&sb);
	oci_target_free(t);
	oci_ref_free(ref);
	return rc;
}

const cli_command cli_cmd_inspect = {
	.name = "inspect",
	.run = cmd_inspect,
	.summary = "summarise an artifact: digest, media types, annotations, layers, signatures",
	.usage = "inspect REF",
	.description =
		"Prints what REF resolves to: digest, media types, annotations, layers, and\n"
		"the number of cosign signatures stored beside it: layers of its .sig tag, and\n"
		"Sigstore bundles attached as OCI 1.1 referrers (cosign 3).\n",
	.operands = (const cli_operand[]){ { CLI_VALUE_REF, "REF", NULL, 0 }, { 0 } },
};
