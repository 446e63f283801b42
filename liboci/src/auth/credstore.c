/* Storing and erasing credentials (login, logout), the way Docker does:
 * in the host's credential helper when the config names one, else in the
 * config file's `auths` map, which is rewritten atomically under a lock,
 * keeping every other key. Finding them is credentials.c. */
#include "oci/credentials.h"
#include "credhelper.h"
#include "credentials_internal.h"
#include "dockerhub.h"
#include "error_internal.h"
#include "fileutil.h"
#include "stream.h"

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

/* Writes cfg to path atomically: a private temporary file beside it, then rename. */
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
	rc = oci_credentials_load_config(&cfg, NULL, path);
	if (rc < 0)
		goto cleanup;
	const char *from = NULL;
	const char *helper = oci_credentials_helper_for(cfg, norm, &from);
	if (helper) {
		rc = oci_credhelper_store(helper, oci_dockerhub_config_key(norm), user, secret);
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
	if (!entry || json_object_set_new(auths, oci_dockerhub_config_key(norm), entry) != 0) {
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
	rc = oci_credentials_load_config(&cfg, &exists, path);
	if (rc < 0)
		goto cleanup;
	const char *from = NULL;
	const char *helper = oci_credentials_helper_for(cfg, norm, &from);
	if (helper) {
		rc = oci_credhelper_erase(helper, oci_dockerhub_config_key(norm));
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
