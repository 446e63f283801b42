#!/usr/bin/env node
// sigstore-js as an independent peer for ocisync's Sigstore bundle tests
// (tests/integration/sigstore_bundle.sh). Nothing here talks to Sigstore's
// public services: verification uses a Verifier over an empty trusted root
// plus one public key with every threshold at 0 (the top-level verify() of
// `sigstore` would fetch TUF metadata), and bundles are built with a local
// key signer and no witnesses (no Rekor, no TSA).
//
//   peer.js verify BUNDLE.json PUBLIC.pem DIGEST
//       verifies the bundle's signature with the key (sigstore-js), then
//       checks that its in-toto statement is cosign's signature statement
//       for DIGEST; prints "verified" or fails with sigstore-js's message.
//   peer.js sign PRIVATE.pem DIGEST OUT.json
//       writes a keyed bundle like cosign v3 `sign --key`: a DSSE envelope of
//       an in-toto Statement v1 with predicate https://sigstore.dev/cosign/sign/v1
//       whose subject is DIGEST; the key hint is cosign's (base64 sha256 of SPKI).
//   peer.js attach HOST:PORT/REPO DIGEST BUNDLE.json
//       attaches the bundle to DIGEST as an OCI 1.1 referrer with @sigstore/oci
//       (which keeps the sha256-<hex> referrers tag on registries without the
//       referrers API); prints the referrer manifest's digest.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON, bundleToJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');
const { DSSEBundleBuilder } = require('@sigstore/sign');
const { attachArtifactToImage } = require('@sigstore/oci');

const BUNDLE_MT = 'application/vnd.dev.sigstore.bundle.v0.3+json';
const SIGN_PREDICATE = 'https://sigstore.dev/cosign/sign/v1';
const INTOTO = 'application/vnd.in-toto+json';

// cosign's hint for a key: base64(sha256(SubjectPublicKeyInfo DER)).
function hintOf(keyObject) {
  const der = keyObject.export({ type: 'spki', format: 'der' });
  return crypto.createHash('sha256').update(der).digest('base64');
}

function verify(bundlePath, pubPath, digest) {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const pub = crypto.createPublicKey(fs.readFileSync(pubPath));
  const emptyRoot = {
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [], certificateAuthorities: [], ctlogs: [], timestampAuthorities: [],
  };
  const hint = bundle.verificationMaterial.content.publicKey?.hint ?? '';
  // The key is found by the hint the bundle names; it must be cosign's.
  const keys = (h) => {
    if (h !== hintOf(pub)) throw new Error(`key hint ${h} is not the key's (${hintOf(pub)})`);
    return { publicKey: pub, validFor: () => true };
  };
  const verifier = new Verifier(toTrustMaterial(emptyRoot, keys),
    { tlogThreshold: 0, ctlogThreshold: 0, tsaThreshold: 0 });
  verifier.verify(toSignedEntity(bundle));
  const env = bundle.content.dsseEnvelope;
  if (!env || env.payloadType !== INTOTO) throw new Error('not a DSSE envelope of an in-toto statement');
  const st = JSON.parse(env.payload.toString('utf8'));
  if (st._type !== 'https://in-toto.io/Statement/v1') throw new Error(`statement type ${st._type}`);
  if (st.predicateType !== SIGN_PREDICATE) throw new Error(`predicate type ${st.predicateType}`);
  const hex = digest.replace(/^sha256:/, '');
  if (!st.subject.some((s) => s.digest && s.digest.sha256 === hex)) {
    throw new Error(`statement subject is not ${digest}`);
  }
  console.log(`verified (hint ${hint})`);
}

async function sign(keyPath, digest, outPath) {
  const priv = crypto.createPrivateKey(fs.readFileSync(keyPath));
  const pub = crypto.createPublicKey(priv);
  const signer = {
    sign: async (data) => ({
      signature: crypto.sign('sha256', data, priv),
      key: { $case: 'publicKey', publicKey: pub.export({ type: 'spki', format: 'pem' }), hint: hintOf(pub) },
    }),
  };
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ digest: { sha256: digest.replace(/^sha256:/, '') }, annotations: {} }],
    predicateType: SIGN_PREDICATE,
    predicate: {},
  };
  const bundle = await new DSSEBundleBuilder({ signer, witnesses: [] })
    .create({ data: Buffer.from(JSON.stringify(statement)), type: INTOTO });
  fs.writeFileSync(outPath, JSON.stringify(bundleToJSON(bundle)));
}

async function attach(image, digest, bundlePath) {
  const desc = await attachArtifactToImage({
    imageName: image,
    imageDigest: digest,
    artifact: fs.readFileSync(bundlePath),
    mediaType: BUNDLE_MT,
    annotations: {
      'dev.sigstore.bundle.content': 'dsse-envelope',
      'dev.sigstore.bundle.predicateType': SIGN_PREDICATE,
    },
    credentials: undefined,
  });
  console.log(desc.digest);
}

async function main() {
  const [cmd, ...args] = process.argv.slice(2);
  if (cmd === 'verify' && args.length === 3) return verify(...args);
  if (cmd === 'sign' && args.length === 3) return sign(...args);
  if (cmd === 'attach' && args.length === 3) return attach(...args);
  throw new Error('usage: peer.js verify BUNDLE PUB DIGEST | sign KEY DIGEST OUT | attach IMAGE DIGEST BUNDLE');
}

main().catch((e) => {
  console.error(`sigstore-js: ${e.message}${e.cause ? `: ${e.cause.message || e.cause}` : ''}`);
  process.exit(1);
});
