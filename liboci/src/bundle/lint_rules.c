/* The lint rules: what each checks in one Kubernetes object.
 *
 * Objects are found at a document's root and inside `kind: List` (and
 * every other `*List` kind with `items`). Pod specs are found where the
 * workload kinds keep them: Pod `spec`, PodTemplate `template.spec`,
 * CronJob `spec.jobTemplate.spec.template.spec`, and `spec.template.spec`
 * of anything else that has containers there (Deployment, StatefulSet,
 * DaemonSet, Job, ReplicaSet, and custom kinds of the same shape).
 *
 * The linter builds only the part of a document these rules look up
 * (lint_tree.c's role_keys): a new lookup must be added there too
 * (fuzz_lint fails otherwise). */
#include "lint_internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MSG 512

static int is_true(const lint_node *n)
{
	const char *t = lint_scalar(n);
	return t && n->plain && !strcasecmp(t, "true");
}

/* Kinds that live outside namespaces (Kubernetes' own and the common
 * add-ons'); everything else needs metadata.namespace for
 * namespace-missing. */
static const char *const cluster_scoped[] = {
	"APIService", "CertificateSigningRequest", "ClusterIssuer", "ClusterRole", "ClusterRoleBinding",
	"ComponentStatus", "CSIDriver", "CSINode", "CustomResourceDefinition", "FlowSchema", "IngressClass",
	"MutatingWebhookConfiguration", "Namespace", "Node", "PersistentVolume", "PodSecurityPolicy",
	"PriorityClass", "PriorityLevelConfiguration", "RuntimeClass", "StorageClass",
	"ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
	"VolumeAttachment", "VolumeSnapshotClass", NULL,
};

static int is_cluster_scoped(const char *kind)
{
	for (const char *const *k = cluster_scoped; *k; k++)
		if (!strcmp(*k, kind))
			return 1;
	return 0;
}

/* Why image is not pinned, or NULL when it is. The tag is what follows the
 * last ':' after the last '/', so a registry port (host:5000/app) is not
 * taken for a tag. */
static const char *unpinned_reason(const char *image, int require_digest)
{
	if (strstr(image, "@sha256:"))
		return NULL;
	const char *slash = strrchr(image, '/');
	const char *colon = strrchr(slash ? slash : image, ':');
	if (!colon)
		return "has no tag, so it runs whatever :latest is when pulled";
	if (!strcmp(colon + 1, "latest"))
		return "uses the mutable tag latest";
	if (require_digest)
		return "is not pinned by digest (@sha256:...)";
	return NULL;
}

static int check_containers(lint_sink *s, const lint_node *list)
{
	if (!list || list->kind != LINT_SEQ)
		return 0;
	char msg[MSG];
	int rc;
	for (size_t i = 0; i < list->n; i++) {
		const lint_node *c = list->kids[i];
		const char *name = lint_scalar(lint_get(c, "name"));
		const lint_node *img = lint_get(c, "image");
		const char *image = lint_scalar(img);
		if (image && *image && !lint_policy_image_allowed(s->policy, image)) {
			const char *why = unpinned_reason(image, lint_policy_require_digest(s->policy));
			if (why) {
				snprintf(msg, sizeof msg, "container \"%s\" image \"%s\" %s", name ? name : "?", image, why);
				if ((rc = s->add(s, LINT_RULE_IMAGE_UNPINNED, img->line, msg)))
					return rc;
			}
		}
		const lint_node *priv = lint_path(c, "securityContext.privileged");
		if (is_true(priv)) {
			snprintf(msg, sizeof msg, "container \"%s\" runs privileged (full access to the node)",
				 name ? name : "?");
			if ((rc = s->add(s, LINT_RULE_PRIVILEGED, priv->line, msg)))
				return rc;
		}
	}
	return 0;
}

static int check_pod_spec(lint_sink *s, const lint_node *spec)
{
	int rc;
	if ((rc = check_containers(s, lint_get(spec, "containers"))) ||
	    (rc = check_containers(s, lint_get(spec, "initContainers"))) ||
	    (rc = check_containers(s, lint_get(spec, "ephemeralContainers"))))
		return rc;
	const lint_node *vols = lint_get(spec, "volumes");
	if (vols && vols->kind == LINT_SEQ) {
		char msg[MSG];
		for (size_t i = 0; i < vols->n; i++) {
			const lint_node *hp = lint_get(vols->kids[i], "hostPath");
			if (!hp)
				continue;
			const char *vname = lint_scalar(lint_get(vols->kids[i], "name"));
			const char *path = lint_scalar(lint_get(hp, "path"));
			snprintf(msg, sizeof msg, "volume \"%s\" mounts the node's %s", vname ? vname : "?",
				 path ? path : "filesystem");
			if ((rc = s->add(s, LINT_RULE_HOST_PATH, hp->line, msg)))
				return rc;
		}
	}
	return 0;
}

static const lint_node *pod_spec_of(const lint_node *obj, const char *kind)
{
	if (!strcmp(kind, "Pod"))
		return lint_get(obj, "spec");
	if (!strcmp(kind, "PodTemplate"))
		return lint_path(obj, "template.spec");
	if (!strcmp(kind, "CronJob"))
		return lint_path(obj, "spec.jobTemplate.spec.template.spec");
	const lint_node *spec = lint_path(obj, "spec.template.spec");
	return lint_get(spec, "containers") ? spec : NULL;
}

static int non_empty_map(const lint_node *n)
{
	return n && n->kind == LINT_MAP && n->n > 0;
}

static int check_object(lint_sink *s, const lint_node *obj, int sops, int depth)
{
	if (!obj || obj->kind != LINT_MAP || depth > 8)
		return 0;
	const lint_node *kind_node = lint_get(obj, "kind");
	const char *kind = lint_scalar(kind_node);
	if (!kind)
		return 0;
	int rc;
	size_t kl = strlen(kind);
	const lint_node *items = lint_get(obj, "items");
	if (kl >= 4 && !strcmp(kind + kl - 4, "List") && items && items->kind == LINT_SEQ) {
		for (size_t i = 0; i < items->n; i++)
			if ((rc = check_object(s, items->kids[i], sops, depth + 1)))
				return rc;
		return 0;
	}
	char msg[MSG];
	const lint_node *meta = lint_get(obj, "metadata");
	const char *name = lint_scalar(lint_get(meta, "name"));
	if (!strcmp(kind, "Secret") && !sops) {
		const char *field = NULL;
		const lint_node *where = NULL;
		if (non_empty_map(where = lint_get(obj, "data")))
			field = "data";
		else if (non_empty_map(where = lint_get(obj, "stringData")))
			field = "stringData";
		if (field) {
			snprintf(msg, sizeof msg,
				 "Secret \"%s\" carries its values in %s, readable by anyone who can pull the artifact "
				 "(use SealedSecret, ExternalSecret or SOPS)", name ? name : "?", field);
			if ((rc = s->add(s, LINT_RULE_PLAINTEXT_SECRET, where->line, msg)))
				return rc;
		}
	}
	if (!is_cluster_scoped(kind) && !lint_scalar(lint_get(meta, "namespace"))) {
		snprintf(msg, sizeof msg, "%s \"%s\" names no metadata.namespace (it lands in whatever namespace "
			 "the applier defaults to)", kind, name ? name : "?");
		if ((rc = s->add(s, LINT_RULE_NAMESPACE_MISSING, kind_node->line, msg)))
			return rc;
	}
	const lint_node *spec = pod_spec_of(obj, kind);
	return spec ? check_pod_spec(s, spec) : 0;
}

int lint_check_document(lint_sink *s, const lint_node *root)
{
	/* A SOPS-encrypted file carries its metadata in a top-level `sops:`
	 * map; its Secret values are ciphertext. */
	int sops = lint_get(root, "sops") && lint_get(root, "sops")->kind == LINT_MAP;
	return check_object(s, root, sops, 0);
}
