#include "oci/version.h"

#include <archive.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
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

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static void do_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (sodium_init() < 0) {
		/* sodium_init only fails without an entropy source; key
		 * operations report it when used. */
	}
}

int oci_init(void)
{
	pthread_once(&init_once, do_init);
	return 0;
}
