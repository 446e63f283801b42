/* Credentials in the places Docker and podman keep them: finding them.
 * Lookup follows Docker: a host's credHelpers entry wins, then the
 * credsStore helper, then the `auths` map of the config file; podman's
 * files are read after it. Storing and erasing them (login, logout) is
 * credstore.c. */
#include "oci/credentials.h"
#include "credhelper.h"
#include "credentials_internal.h"
#include "dockerhub.h"
#include "error_internal.h"
#include "stream.h"
#include "fileutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (8 * 1024 * 1024)

void oci_credentials_normalize_host(char *buf, size_t n, const char *host)
{
	const char *p = host ? host : "";
	if (n == 0)
		return;
	if (!strncasecmp(p, "https://", 8))
		p += 8;
	else if (!strncasecmp(p, "http://", 7))
		p += 7;
	else if (!strncasecmp(p, "oci://", 6))
		p += 6;
	size_t len = strcspn(p, "/");
	size_t i;
	for (i = 0; i < len && i + 1 < n; i++)
		buf[i] = (char)tolower((unsigned char)p[i]);
	buf[i] = '\0';
	if (oci_dockerhub_credential_alias(buf))
		snprintf(buf, n, "%s", OCI_DOCKERHUB);
}

int oci_credentials_config_path(char **out, const char *config_path)
{
	*out = NULL;
	const char *dir = getenv("DOCKER_CONFIG");
	if (config_path && *config_path)
		*out = strdup(config_path);
	else if (dir && *dir) {
		if (asprintf(out, "%s/config.json", dir) < 0)
			*out = NULL;
	} else {
		const char *home = getenv("HOME");
		if (!home || !*home)
			return oci_error_set(OCI_EINVALID, "cannot find the Docker config: neither DOCKER_CONFIG nor HOME is set"),
			       oci_error_hint_set(OCI_HINT_REGISTRY_CONFIG, NULL);
		if (asprintf(out, "%s/.docker/config.json", home) < 0)
			*out = NULL;
	}
	return *out ? 0 : OCI_ENOMEM_SET();
}

/* Loads a config file; a missing file is an empty object (*exists = 0). */
int oci_credentials_load_config(json_t **out, int *exists, const char *path)
{
	*out = NULL;
	if (exists)
		*exists = 0;
	struct stat st;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return oci_error_errno("reading %s", path);
		*out = json_object();
		return *out ? 0 : OCI_ENOMEM_SET();
	}
	if (!S_ISREG(st.st_mode))
		return oci_error_set(OCI_EINVALID, "%s is not a regular file", path);
	if (st.st_size > CONFIG_MAX)
		return oci_error_set(OCI_ELIMIT, "%s is larger than %d bytes", path, CONFIG_MAX);
	json_error_t jerr;
	json_t *j = json_load_file(path, 0, &jerr);
	if (!j) {
		if (access(path, R_OK) != 0)
			return oci_error_errno("reading %s", path);
		return oci_error_set(OCI_EINVALID, "%s: invalid JSON at line %d: %s", path, jerr.line, jerr.text);
	}
	if (!json_is_object(j)) {
		json_decref(j);
		return oci_error_set(OCI_EINVALID, "%s: not a JSON object", path);
	}
	*out = j;
	if (exists)
		*exists = 1;
	return 0;
}

/* Name of the helper for host: credHelpers[host] (any key spelling), else
 * credsStore; NULL when none. *from says which, for messages. */
const char *oci_credentials_helper_for(const json_t *cfg, const char *norm, const char **from)
{
	const json_t *helpers = json_object_get(cfg, "credHelpers");
	const char *key;
	json_t *val;
	char kn[256];
	if (json_is_object(helpers)) {
		json_object_foreach((json_t *)helpers, key, val) {
			oci_credentials_normalize_host(kn, sizeof kn, key);
			if (json_is_string(val) && json_string_length(val) > 0 && !strcmp(kn, norm)) {
				*from = "credHelpers";
				return json_string_value(val);
			}
		}
	}
	const char *store = json_string_value(json_object_get(cfg, "credsStore"));
	if (store && *store) {
		*from = "credsStore";
		return store;
	}
	return NULL;
}

/* Base64 "user:password" → the two halves. */
static int decode_auth(char **user, char **secret, const char *b64, const char *path, const char *key)
{
	size_t len = strlen(b64);
	int rc = 0;
	unsigned char *raw = NULL;
	*user = *secret = NULL;
	if (len == 0 || len % 4 != 0 || len > 64 * 1024)
		return oci_error_set(OCI_EINVALID, "%s: auths[\"%s\"].auth is not valid base64", path, key);
	raw = malloc(len / 4 * 3 + 1);
	if (!raw)
		return OCI_ENOMEM_SET();
	/* Padding is at most two '=' and only at the end: "====" or "a=bc"
	 * would otherwise make the decoded length negative below. */
	size_t pad = 0;
	while (pad < len && b64[len - 1 - pad] == '=')
		pad++;
	if (pad > 2 || memchr(b64, '=', len - pad)) {
		rc = oci_error_set(OCI_EINVALID, "%s: auths[\"%s\"].auth is not valid base64", path, key);
		goto cleanup;
	}
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
	if (n < (int)pad) {
		rc = oci_error_set(OCI_EINVALID, "%s: auths[\"%s\"].auth is not valid base64", path, key);
		goto cleanup;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	n -= (int)pad;
	raw[n] = '\0';
	char *colon = memchr(raw, ':', (size_t)n);
	if (!colon || memchr(raw, '\0', (size_t)n)) {
		rc = oci_error_set(OCI_EINVALID, "%s: auths[\"%s\"].auth does not hold \"user:password\"", path, key);
		goto cleanup;
	}
	*user = strndup((char *)raw, (size_t)(colon - (char *)raw));
	*secret = strdup(colon + 1);
	if (!*user || !*secret) {
		free(*user);
		free(*secret);
		*user = *secret = NULL;
		rc = OCI_ENOMEM_SET();
	}
cleanup:
	OPENSSL_cleanse(raw, len / 4 * 3 + 1);
	free(raw);
	return rc;
}

/* Looks host up in cfg's `auths`. 0 with *user NULL when absent. */
static int from_auths(char **user, char **secret, int *is_identity, const json_t *cfg,
		      const char *norm, const char *path)
{
	const json_t *auths = json_object_get(cfg, "auths");
	const char *key;
	json_t *entry;
	char kn[256];
	if (!json_is_object(auths))
		return 0;
	json_object_foreach((json_t *)auths, key, entry) {
		oci_credentials_normalize_host(kn, sizeof kn, key);
		if (strcmp(kn, norm) != 0 || !json_is_object(entry))
			continue;
		const char *b64 = json_string_value(json_object_get(entry, "auth"));
		const char *idt = json_string_value(json_object_get(entry, "identitytoken"));
		const char *u = json_string_value(json_object_get(entry, "username"));
		const char *pw = json_string_value(json_object_get(entry, "password"));
		int rc;
		if (b64 && *b64) {
			rc = decode_auth(user, secret, b64, path, key);
			if (rc < 0)
				return rc;
		} else if (u && pw) {
			*user = strdup(u);
			*secret = strdup(pw);
			if (!*user || !*secret)
				goto nomem;
		}
		if (idt && *idt) {
			/* An identity token replaces the password; the user part of
			 * `auth` (often "<token>") names who it belongs to. */
			if (*secret)
				OPENSSL_cleanse(*secret, strlen(*secret));
			free(*secret);
			*secret = strdup(idt);
			if (!*user)
				*user = strdup("<token>");
			if (!*user || !*secret)
				goto nomem;
			if (is_identity)
				*is_identity = 1;
		}
		if (*user)
			return 0;
	}
	return 0;
nomem:
	free(*user);
	free(*secret);
	*user = *secret = NULL;
	return OCI_ENOMEM_SET();
}

static void wipe_free(char **s)
{
	if (*s) {
		OPENSSL_cleanse(*s, strlen(*s));
		free(*s);
		*s = NULL;
	}
}

/* Looks in one file (Docker config or podman auth.json). */
static int from_file(char **user, char **secret, int *is_identity, const char *path,
		     const char *norm, int use_helpers)
{
	json_t *cfg = NULL;
	int exists = 0;
	int rc = oci_credentials_load_config(&cfg, &exists, path);
	if (rc < 0)
		return oci_error_wrap("looking up credentials for %s", norm);
	if (!exists)
		goto cleanup;
	if (use_helpers) {
		const char *from = NULL;
		const char *helper = oci_credentials_helper_for(cfg, norm, &from);
		if (helper) {
			rc = oci_credhelper_get(user, secret, helper, oci_dockerhub_config_key(norm));
			if (rc < 0) {
				oci_error_wrap("%s (%s in %s)", norm, from, path);
				goto cleanup;
			}
			if (*user && strcmp(*user, "<token>") == 0 && is_identity)
				*is_identity = 1;
			/* credHelpers is authoritative for its host, as in Docker;
			 * a credsStore miss may still be in `auths`. */
			if (*user || strcmp(from, "credHelpers") == 0)
				goto cleanup;
		}
	}
	rc = from_auths(user, secret, is_identity, cfg, norm, path);
cleanup:
	json_decref(cfg);
	return rc;
}

int oci_credentials_get(char **user, char **secret, int *is_identity_token,
			const char *host, const char *config_path)
{
	char norm[256];
	char *path = NULL;
	int rc;
	*user = *secret = NULL;
	if (is_identity_token)
		*is_identity_token = 0;
	oci_credentials_normalize_host(norm, sizeof norm, host);
	if (!*norm)
		return oci_error_set(OCI_EINVALID, "credentials: empty registry host");
	rc = oci_credentials_config_path(&path, config_path);
	if (rc < 0)
		return rc;
	rc = from_file(user, secret, is_identity_token, path, norm, 1);
	if (rc < 0 || *user || (config_path && *config_path))
		goto cleanup;
	/* podman/skopeo/buildah files, read only. */
	const char *raf = getenv("REGISTRY_AUTH_FILE");
	if (raf && *raf) {
		rc = from_file(user, secret, is_identity_token, raf, norm, 0);
		if (rc < 0 || *user)
			goto cleanup;
	}
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	if (xdg && *xdg) {
		char podman[PATH_MAX];
		snprintf(podman, sizeof podman, "%s/containers/auth.json", xdg);
		rc = from_file(user, secret, is_identity_token, podman, norm, 0);
	}
cleanup:
	if (rc < 0) {
		free(*user);
		wipe_free(secret);
		*user = NULL;
	}
	free(path);
	return rc;
}

