/* Compiled with only liboci's public headers on the include path, as
 * strictly as a program using them might be (tests/meson.build: C11,
 * -pedantic, every warning an error): the headers must stand alone. The
 * headers use POSIX types (ssize_t, sigset_t), so a strict C11 program
 * asks for POSIX, as liboci(3) says. */
#define _POSIX_C_SOURCE 200809L
#include <oci/oci.h>

#include <stdio.h>
#include <string.h>

int main(void)
{
	oci_client_opts client;
	oci_pull_opts pull;
	if (oci_init() != 0 || oci_client_opts_init(&client) != 0 || oci_pull_opts_init(&pull) != 0)
		return 1;
	if (client.version != OCI_CLIENT_OPTS_VERSION || pull.extract.version != OCI_EXTRACT_OPTS_VERSION)
		return 1;
	if (oci_error_hint(NULL) != OCI_HINT_NONE || strlen(oci_version()) == 0)
		return 1;
	printf("liboci %s\n", oci_version());
	oci_shutdown();
	return 0;
}
