/* Per-registry connection settings from the "ocisync" section of the Docker
 * config (oci/registries.h). Why that file and not containers'
 * registries.conf: it is the one file a CronJob already mounts (the pull
 * secret), it is JSON (jansson; no TOML library in Debian for C), and
 * registries.conf has no per-registry CA or client certificate (containers
 * keep those in certs.d directories). */
#include "oci/registries.h"
#include "oci/credentials.h"
#include "error_internal.h"
#include "tls.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct entry {
	char host[256];  /* normalised, as credentials are looked up */
	int plain_http, insecure;
	char *ca_file, *cert_file, *key_file;
};

struct oci_registry_settings {
	struct entry *entries;
	size_t n;
};

void oci_registry_settings_free(oci_registry_settings *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		free(s->entries[i].ca_file);
		free(s->entries[i].cert_file);
		free(s->entries[i].key_file);
	}
	free(s->entries);
	free(s);
}

/* A file the section names: absolute, or relative to the config's folder;
 * it must be a readable regular file now, not at the first TLS handshake. */
static int file_setting(char **out, const json_t *v, const char *dir, const char *where, const char *key)
{
	if (!v)
		return 0;
	if (!json_is_string(v) || !json_string_length(v))
		return oci_error_set(OCI_EINVALID, "%s.%s: expected a file name", where, key);
	const char *name = json_string_value(v);
	if ((name[0] == '/' ? asprintf(out, "%s", name) : asprintf(out, "%s/%s", dir, name)) < 0) {
		*out = NULL;
		return OCI_ENOMEM_SET();
	}
	struct stat st;
	if (stat(*out, &st) < 0)
		return oci_error_set(OCI_EINVALID, "%s.%s %s: %s", where, key, *out,
				     errno == ENOENT ? "no such file" : strerror(errno));
	if (!S_ISREG(st.st_mode))
		return oci_error_set(OCI_EINVALID, "%s.%s %s: not a regular file", where, key, *out);
	if (access(*out, R_OK) < 0)
		return oci_error_set(OCI_EINVALID, "%s.%s %s: cannot be read: %s", where, key, *out, strerror(errno));
	return 0;
}

static int flag_setting(int *out, const json_t *v, const char *where, const char *key)
{
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return oci_error_set(OCI_EINVALID, "%s.%s: expected true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

static int read_entry(struct entry *e, const char *host, json_t *obj, const char *dir, const char *path)
{
	char where[512];
	snprintf(where, sizeof where, "%s: ocisync.registries[\"%s\"]", path, host);
	if (!json_is_object(obj))
		return oci_error_set(OCI_EINVALID, "%s: expected an object", where);
	static const char *known[] = { "plainHTTP", "insecure", "caFile", "certFile", "keyFile", NULL };
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		int found = 0;
		for (const char **k = known; *k; k++)
			found |= !strcmp(*k, key);
		if (!found) /* a typo must not silently mean "no setting" */
			return oci_error_set(OCI_EINVALID, "%s: unknown setting \"%s\" (known: plainHTTP, insecure, caFile, certFile, keyFile)",
					     where, key);
	}
	oci_credentials_normalize_host(e->host, sizeof e->host, host);
	int rc;
	if ((rc = flag_setting(&e->plain_http, json_object_get(obj, "plainHTTP"), where, "plainHTTP")) < 0 ||
	    (rc = flag_setting(&e->insecure, json_object_get(obj, "insecure"), where, "insecure")) < 0 ||
	    (rc = file_setting(&e->ca_file, json_object_get(obj, "caFile"), dir, where, "caFile")) < 0 ||
	    (rc = file_setting(&e->cert_file, json_object_get(obj, "certFile"), dir, where, "certFile")) < 0 ||
	    (rc = file_setting(&e->key_file, json_object_get(obj, "keyFile"), dir, where, "keyFile")) < 0)
		return rc;
	if (!e->cert_file != !e->key_file)
		return oci_error_set(OCI_EINVALID, "%s: certFile and keyFile go together (mutual TLS)", where);
	if (e->plain_http && (e->insecure || e->ca_file || e->cert_file))
		return oci_error_set(OCI_EINVALID, "%s: plainHTTP contradicts insecure, caFile and certFile (they are for HTTPS)",
				     where);
	return 0;
}

static int load_section(oci_registry_settings *s, const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0 && errno == ENOENT)
		return 0; /* no config: nothing set (a missing --registry-config is the CLI's usage error) */
	json_error_t jerr;
	json_t *cfg = json_load_file(path, 0, &jerr);
	if (!cfg)
		return oci_error_set(OCI_EINVALID, "%s: invalid JSON at line %d: %s", path, jerr.line, jerr.text);
	int rc = 0;
	json_t *section = json_object_get(cfg, "ocisync");
	json_t *regs = section ? json_object_get(section, "registries") : NULL;
	if (section && (!json_is_object(section) || (regs && !json_is_object(regs)))) {
		rc = oci_error_set(OCI_EINVALID, "%s: \"ocisync\" must be an object with an object \"registries\"", path);
	} else if (regs && json_object_size(regs)) {
		char *dir = strdup(path), *slash = dir ? strrchr(dir, '/') : NULL;
		if (!dir)
			rc = OCI_ENOMEM_SET();
		else if (slash == dir)
			dir[1] = '\0'; /* "/config.json": the root */
		else if (slash)
			*slash = '\0';
		else
			strcpy(dir, "."); /* "config.json": strdup's room suffices for "." */
		s->entries = calloc(json_object_size(regs), sizeof *s->entries);
		if (!rc && !s->entries)
			rc = OCI_ENOMEM_SET();
		const char *host;
		json_t *obj;
		json_object_foreach(regs, host, obj) {
			if (rc < 0)
				break;
			rc = read_entry(&s->entries[s->n++], host, obj, dir, path);
		}
		free(dir);
	}
	json_decref(cfg);
	return rc;
}

int oci_registry_settings_load(oci_registry_settings **out, const char *config_path)
{
	*out = NULL;
	oci_registry_settings *s = calloc(1, sizeof *s);
	if (!s)
		return OCI_ENOMEM_SET();
	char *path = NULL;
	int rc = oci_credentials_config_path(&path, config_path);
	if (rc == OCI_EINVALID && !config_path)
		rc = 0; /* no HOME nor DOCKER_CONFIG: no settings, as no credentials */
	else if (rc == 0)
		rc = load_section(s, path);
	free(path);
	if (rc < 0) {
		oci_registry_settings_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int oci_registry_settings_apply(const oci_registry_settings *s, const char *host, oci_client_opts *opts)
{
	if (!s || !host)
		return 0;
	char norm[256];
	oci_credentials_normalize_host(norm, sizeof norm, host);
	for (size_t i = 0; i < s->n; i++) {
		const struct entry *e = &s->entries[i];
		if (strcmp(e->host, norm) != 0)
			continue;
		/* what the command line set stays: a flag there is the exception */
		int tls_given = opts->insecure || opts->ca_file || opts->cert_file;
		if (!tls_given)
			opts->plain_http |= e->plain_http;
		if (!opts->plain_http) {
			opts->insecure |= e->insecure;
			if (!opts->ca_file)
				opts->ca_file = e->ca_file;
			if (!opts->cert_file) {
				opts->cert_file = e->cert_file;
				opts->key_file = e->key_file;
			}
		}
		return 1;
	}
	return 0;
}

int oci_registry_is_loopback(const char *host)
{
	return oci_host_is_loopback(host);
}
