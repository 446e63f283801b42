/* liboci: OCI artifacts for Kubernetes manifests. Include this one header. */
#ifndef OCI_OCI_H
#define OCI_OCI_H
#include "oci/common.h"
#include "oci/error.h"
#include "oci/io.h"
#include "oci/digest.h"
#include "oci/ref.h"
#include "oci/manifest.h"
#include "oci/target.h"
#include "oci/credentials.h"
#include "oci/registries.h"
#include "oci/bundle.h"
#include "oci/lint.h"
#include "oci/extract.h"
#include "oci/ops.h"
#include "oci/key.h"
#include "oci/sign.h"
#include "oci/referrers.h"
#include "oci/dsse.h"
#include "oci/sigstore.h"
#include "oci/version.h"
#include "oci/semver.h"
#include "oci/sync.h"

#endif
