// Development PKI for service-to-service mutual TLS: one CA and one certificate per service, made
// with the `openssl` binary. The service identity is in the certificate twice: CN=<service> and the
// URI SAN spiffe://fairway.dev/<service> (the SPIFFE ID form, so a real mesh or SPIRE can issue the
// same identities later). Idempotent: existing, still-valid files signed by the CA are kept.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { root } = require('./bootstrap.cjs');

/** The services that get a certificate by default. */
const SERVICES = ['edge', 'scheduler', 'worker', 'control-plane', 'tenantctl'];
/** The SPIFFE trust domain of the development PKI. */
const TRUST_DOMAIN = 'fairway.dev';
const DEFAULT_DIR = path.join(root, '.fairway', 'certs');
const CA_DAYS = 3650;
const CERT_DAYS = 825;
// Regenerate a certificate that would expire within this many seconds.
const RENEW_BEFORE_SECONDS = 30 * 24 * 3600;

function openssl(args, options = {}) {
  return execFileSync('openssl', args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
}

function validFor(certFile, seconds) {
  try {
    openssl(['x509', '-in', certFile, '-noout', '-checkend', String(seconds)]);
    return true;
  } catch {
    return false;
  }
}

function signedBy(certFile, caFile) {
  try {
    openssl(['verify', '-CAfile', caFile, certFile]);
    return true;
  } catch {
    return false;
  }
}

function ensureCa(dir, log) {
  const caKey = path.join(dir, 'ca.key');
  const caCrt = path.join(dir, 'ca.crt');
  if (fs.existsSync(caKey) && fs.existsSync(caCrt) && validFor(caCrt, RENEW_BEFORE_SECONDS)) return { caKey, caCrt, created: false };
  log(`creating development CA in ${dir}`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  fs.chmodSync(caKey, 0o600);
  openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    caKey,
    '-sha256',
    '-days',
    String(CA_DAYS),
    '-out',
    caCrt,
    '-subj',
    '/O=Fairway development/CN=Fairway development CA',
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return { caKey, caCrt, created: true };
}

/** The SPIFFE ID of `service` in the development trust domain. */
function spiffeId(service, trustDomain = TRUST_DOMAIN) {
  return `spiffe://${trustDomain}/${service}`;
}

function issue(dir, service, ca, trustDomain, log) {
  const key = path.join(dir, `${service}.key`);
  const crt = path.join(dir, `${service}.crt`);
  if (!ca.created && fs.existsSync(key) && fs.existsSync(crt) && validFor(crt, RENEW_BEFORE_SECONDS) && signedBy(crt, ca.caCrt)) return false;
  log(`issuing certificate for ${service} (${spiffeId(service, trustDomain)})`);
  const csr = path.join(dir, `${service}.csr`);
  const ext = path.join(dir, `${service}.ext`);
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', key]);
  // PKCS#8: what Node's TLS (and grpc-js) reads without surprises.
  openssl(['pkcs8', '-topk8', '-nocrypt', '-in', key, '-out', `${key}.p8`]);
  fs.renameSync(`${key}.p8`, key);
  fs.chmodSync(key, 0o600);
  openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/O=Fairway development/CN=${service}`]);
  // Every service is both a server and a client (mutual TLS), so both key usages.
  fs.writeFileSync(
    ext,
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      `subjectAltName=URI:${spiffeId(service, trustDomain)},DNS:${service},DNS:localhost,IP:127.0.0.1,IP:::1`,
    ].join('\n') + '\n',
  );
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.caCrt,
    '-CAkey',
    ca.caKey,
    '-CAcreateserial',
    '-sha256',
    '-days',
    String(CERT_DAYS),
    '-extfile',
    ext,
    '-out',
    crt,
  ]);
  fs.rmSync(csr);
  fs.rmSync(ext);
  return true;
}

/**
 * Makes sure `dir` holds ca.crt/ca.key and <service>.crt/<service>.key for every service. Returns
 * the paths and which certificates were (re)issued. A new CA reissues every certificate.
 */
function ensureCerts(options = {}) {
  const dir = options.dir ?? DEFAULT_DIR;
  const services = options.services ?? SERVICES;
  const trustDomain = options.trustDomain ?? TRUST_DOMAIN;
  const log = options.log ?? (() => undefined);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = ensureCa(dir, log);
  const issued = [];
  for (const service of services) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(service)) throw new Error(`service name '${service}' must be lower-case letters, digits and dashes`);
    if (issue(dir, service, ca, trustDomain, log)) issued.push(service);
  }
  const files = Object.fromEntries(services.map((s) => [s, { cert: path.join(dir, `${s}.crt`), key: path.join(dir, `${s}.key`) }]));
  return { dir, ca: ca.caCrt, caCreated: ca.created, issued, files };
}

/** The environment that points a service at its certificate (FAIRWAY_TLS_CA/CERT/KEY). */
function tlsEnv(service, dir = DEFAULT_DIR) {
  return {
    FAIRWAY_TLS_CA: path.join(dir, 'ca.crt'),
    FAIRWAY_TLS_CERT: path.join(dir, `${service}.crt`),
    FAIRWAY_TLS_KEY: path.join(dir, `${service}.key`),
  };
}

module.exports = { ensureCerts, tlsEnv, spiffeId, SERVICES, TRUST_DOMAIN, DEFAULT_DIR };
