/* Credentials in the places Docker and podman keep them. Lookup follows
 * Docker: a host's credHelpers entry wins, then the credsStore helper, then
 * the `auths` map of the config file; podman's files are read after it. */
#include "oci/credentials.h"
#include "credhelper.h"
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

#define DOCKER_HUB "docker.io"
#define DOCKER_HUB_KEY "https://index.docker.io/v1/"
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
	if (!strcmp(buf, "index.docker.io") || !strcmp(buf, "registry-1.docker.io") ||
	    !strcmp(buf, "registry.hub.docker.com"))
		snprintf(buf, n, "%s", DOCKER_HUB);
}

/* The key Docker writes for host: Docker Hub keeps its historic v1 URL. */
static const char *store_key(const char *norm)
{
	return strcmp(norm, DOCKER_HUB) == 0 ? DOCKER_HUB_KEY : norm;
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
			return oci_error_set(OCI_EINVALID,
					     "cannot find the Docker config: neither DOCKER_CONFIG nor HOME is set (use --registry-config)");
		if (asprintf(out, "%s/.docker/config.json", home) < 0)
			*out = NULL;
	}
	return *out ? 0 : OCI_ENOMEM_SET();
}

/* Loads a config file; a missing file is an empty object (*exists = 0). */
static int load_config(json_t **out, int *exists, const char *path)
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
static const char *helper_for(const json_t *cfg, const char *norm, const char **from)
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
	int rc = load_config(&cfg, &exists, path);
	if (rc < 0)
		return oci_error_wrap("looking up credentials for %s", norm);
	if (!exists)
		goto cleanup;
	if (use_helpers) {
		const char *from = NULL;
		const char *helper = helper_for(cfg, norm, &from);
		if (helper) {
			rc = oci_credhelper_get(user, secret, helper, store_key(norm));
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

/* Creates the directory holding path (0700) when missing. */
static int make_parent(const char *path)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return oci_error_errno("creating %s", dir);
		*p = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return oci_error_errno("creating %s", dir);
	return 0;
}

/* Writes cfg to path atomically (a private file, durable). */
static int save_config(const json_t *cfg, const char *config_path)
{
	/* A config that is a symlink (dotfile managers) stays one: the file
	 * it points to is replaced, as Docker does. */
	char resolved[PATH_MAX];
	const char *path = config_path;
	if (realpath(config_path, resolved))
		path = resolved;
	int rc = make_parent(path);
	if (rc < 0)
		return rc;
	char *text = json_dumps(cfg, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text)
		return OCI_ENOMEM_SET();
	oci_ostream *o;
	if ((rc = oci_ostream_atomic(&o, AT_FDCWD, path, 0600, OCI_STREAM_DURABLE, NULL)) == 0) {
		if ((rc = oci_ostream_write(o, text, strlen(text))) < 0 || (rc = oci_ostream_write(o, "\n", 1)) < 0)
			oci_ostream_abort(o);
		else
			rc = oci_ostream_commit(o);
	}
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

/* Logins and logouts to different hosts at the same time (CI runners,
 * shared build hosts) each rewrite the whole file: without a lock the last
 * writer wins and the others' changes are lost. The lock is config.json.lock
 * beside the file the config resolves to (the file save_config replaces);
 * the config is read again once it is held. create: make the directory
 * when missing (login); otherwise a missing directory means no config and
 * no lock (*fd = -1). Credential helpers are called under the lock too, so
 * helpers that rewrite a file of their own are serialised as well. */
static int lock_config(int *fd, const char *config_path, int create)
{
	char resolved[PATH_MAX];
	const char *path = config_path;
	char *lock = NULL;
	int rc;
	*fd = -1;
	if (realpath(config_path, resolved))
		path = resolved;
	if (create && (rc = make_parent(path)) < 0)
		return rc;
	if (asprintf(&lock, "%s.lock", path) < 0)
		return OCI_ENOMEM_SET();
	char *dir = oci_dirname(path);
	if (!dir) {
		free(lock);
		return OCI_ENOMEM_SET();
	}
	if (create || access(dir, F_OK) == 0) {
		rc = oci_lock_exclusive(lock, 1);
		if (rc >= 0) {
			*fd = rc;
			rc = 0;
		}
	} else {
		rc = 0;
	}
	free(dir);
	free(lock);
	return rc;
}

/* Removes every `auths` key that names host; returns how many. */
static int remove_auths(json_t *cfg, const char *norm)
{
	json_t *auths = json_object_get(cfg, "auths");
	const char *key;
	json_t *val;
	void *tmp;
	char kn[256];
	int removed = 0;
	if (!json_is_object(auths))
		return 0;
	json_object_foreach_safe(auths, tmp, key, val) {
		oci_credentials_normalize_host(kn, sizeof kn, key);
		if (strcmp(kn, norm) == 0) {
			json_object_del(auths, key);
			removed++;
		}
	}
	return removed;
}

static int set_where(char **where, const char *fmt, const char *arg)
{
	if (!where)
		return 0;
	if (asprintf(where, fmt, arg) < 0) {
		*where = NULL;
		return OCI_ENOMEM_SET();
	}
	return 0;
}

int oci_credentials_store(char **where, const char *host, const char *user,
			  const char *secret, const char *config_path)
{
	char norm[256];
	char *path = NULL, *pair = NULL, *b64 = NULL;
	json_t *cfg = NULL;
	int rc;
	if (where)
		*where = NULL;
	oci_credentials_normalize_host(norm, sizeof norm, host);
	if (!*norm || !user || !*user || !secret)
		return oci_error_set(OCI_EINVALID, "credentials: host, user and secret are required");
	if (strchr(user, ':'))
		return oci_error_set(OCI_EINVALID, "user name '%s' contains ':', which Docker's config cannot store", user);
	int lock = -1;
	rc = oci_credentials_config_path(&path, config_path);
	if (rc < 0)
		return rc;
	if ((rc = lock_config(&lock, path, 1)) < 0)
		goto cleanup;
	rc = load_config(&cfg, NULL, path);
	if (rc < 0)
		goto cleanup;
	const char *from = NULL;
	const char *helper = helper_for(cfg, norm, &from);
	if (helper) {
		rc = oci_credhelper_store(helper, store_key(norm), user, secret);
		if (rc < 0) {
			oci_error_wrap("storing credentials for %s (%s in %s)", norm, from, path);
			goto cleanup;
		}
		rc = set_where(where, "credential helper docker-credential-%s", helper);
		goto cleanup;
	}
	size_t plen = strlen(user) + 1 + strlen(secret);
	pair = malloc(plen + 1);
	b64 = malloc(4 * ((plen + 2) / 3) + 1);
	if (!pair || !b64) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	snprintf(pair, plen + 1, "%s:%s", user, secret);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)pair, (int)plen);
	json_t *auths = json_object_get(cfg, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		if (!auths || json_object_set_new(cfg, "auths", auths) != 0) {
			rc = OCI_ENOMEM_SET();
			goto cleanup;
		}
	}
	remove_auths(cfg, norm); /* other spellings of the same host */
	json_t *entry = json_pack("{s:s}", "auth", b64);
	if (!entry || json_object_set_new(auths, store_key(norm), entry) != 0) {
		rc = OCI_ENOMEM_SET();
		goto cleanup;
	}
	rc = save_config(cfg, path);
	if (rc < 0)
		goto cleanup;
	rc = set_where(where, "%s", path);
cleanup:
	if (pair) {
		OPENSSL_cleanse(pair, strlen(pair));
		free(pair);
	}
	if (b64) {
		OPENSSL_cleanse(b64, strlen(b64));
		free(b64);
	}
	if (lock >= 0)
		close(lock);
	json_decref(cfg);
	free(path);
	return rc;
}

int oci_credentials_erase(char **where, const char *host, const char *config_path)
{
	char norm[256];
	char *path = NULL;
	json_t *cfg = NULL;
	int exists = 0, rc;
	if (where)
		*where = NULL;
	oci_credentials_normalize_host(norm, sizeof norm, host);
	if (!*norm)
		return oci_error_set(OCI_EINVALID, "credentials: empty registry host");
	int lock = -1;
	rc = oci_credentials_config_path(&path, config_path);
	if (rc < 0)
		return rc;
	if ((rc = lock_config(&lock, path, 0)) < 0)
		goto cleanup;
	rc = load_config(&cfg, &exists, path);
	if (rc < 0)
		goto cleanup;
	const char *from = NULL;
	const char *helper = helper_for(cfg, norm, &from);
	if (helper) {
		rc = oci_credhelper_erase(helper, store_key(norm));
		if (rc < 0 && rc != OCI_ENOTFOUND) {
			oci_error_wrap("removing credentials for %s (%s in %s)", norm, from, path);
			goto cleanup;
		}
		int in_helper = rc == 0;
		/* An entry in the file too (written before the helper was
		 * configured, or by Docker beside it): remove it as well. */
		int in_file = remove_auths(cfg, norm) > 0;
		if (in_file && (rc = save_config(cfg, path)) < 0)
			goto cleanup;
		if (!in_helper && !in_file) {
			rc = oci_error_set(OCI_ENOTFOUND, "not logged in to %s (credential helper docker-credential-%s has nothing for it)",
					   norm, helper);
			goto cleanup;
		}
		rc = in_helper ? set_where(where, "credential helper docker-credential-%s", helper) : set_where(where, "%s", path);
		goto cleanup;
	}
	if (!exists || remove_auths(cfg, norm) == 0) {
		rc = oci_error_set(OCI_ENOTFOUND, "not logged in to %s (no credentials for it in %s)", norm, path);
		goto cleanup;
	}
	rc = save_config(cfg, path);
	if (rc < 0)
		goto cleanup;
	rc = set_where(where, "%s", path);
cleanup:
	if (lock >= 0)
		close(lock);
	json_decref(cfg);
	free(path);
	return rc;
}
