/* Built by tests/integration/install.sh against an installed liboci, with
 * nothing but `pkg-config --cflags --libs liboci`: proves the headers, the
 * soname link and the .pc file work for a program outside the tree. */
#include <oci/oci.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	oci_init();
	oci_ref *ref = NULL;
	if (oci_ref_parse(&ref, "oci-layout:/srv/store:v1") != 0) {
		fprintf(stderr, "oci_ref_parse: %s\n", oci_error_last()->message);
		return 1;
	}
	oci_ref_free(ref);
	char digest[OCI_DIGEST_SIZE];
	if (oci_digest_buf(digest, "{}", 2) != 0 ||
	    strcmp(digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a") != 0) {
		fprintf(stderr, "oci_digest_buf gave %s\n", digest);
		return 1;
	}
	printf("liboci %s\n", oci_version());
	oci_shutdown();
	return 0;
}
