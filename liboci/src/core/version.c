#include "oci/version.h"
#include "error_internal.h"

#include <archive.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <yaml.h>

#ifndef OCI_VERSION_STRING
#define OCI_VERSION_STRING "0.1.0"
#endif

const char *oci_version(void) { return OCI_VERSION_STRING; }

static char deps[512];
static pthread_once_t deps_once = PTHREAD_ONCE_INIT;

static void fill_deps(void)
{
	curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);
	snprintf(deps, sizeof deps, "libcurl %s (%s), jansson %s, %s, %s, libsodium %s, libyaml %s",
		 cv->version, cv->ssl_version ? cv->ssl_version : "no TLS", jansson_version_str(),
		 archive_version_details(), OpenSSL_version(OPENSSL_VERSION), sodium_version_string(),
		 yaml_get_version_string());
}

const char *oci_version_deps(void)
{
	pthread_once(&deps_once, fill_deps);
	return deps;
}

/* The libraries' process-wide state, set up once whoever calls first:
 * pthread_once makes concurrent first calls wait for the one that runs. */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_rc;
static char init_error[160];

static void do_init(void)
{
	if (!OPENSSL_init_ssl(OPENSSL_INIT_LOAD_SSL_STRINGS | OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL)) {
		init_rc = OCI_ERROR;
		snprintf(init_error, sizeof init_error, "liboci init: OpenSSL could not be initialised");
		return;
	}
	CURLcode cc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (cc != CURLE_OK) {
		init_rc = OCI_ERROR;
		snprintf(init_error, sizeof init_error, "liboci init: libcurl: %s", curl_easy_strerror(cc));
		return;
	}
	if (sodium_init() < 0) {
		/* only without an entropy source; key operations call it again
		 * and report that when they need it */
	}
}

int oci_init(void)
{
	pthread_once(&init_once, do_init);
	return init_rc ? oci_error_set(init_rc, "%s", init_error) : 0;
}
