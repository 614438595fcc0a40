import { readFileSync } from 'node:fs';
import { checkServerIdentity as checkHostname, type PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { ConfigInvalidError } from '@fairway/errors';

/** PEM material for mutual TLS: the CA that signs every Fairway service, and this service's pair. */
export interface TlsMaterial {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** Paths of the PEM files (what FAIRWAY_TLS_CA, FAIRWAY_TLS_CERT and FAIRWAY_TLS_KEY name). */
export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

/**
 * How a service's gRPC traffic is protected: mutual TLS, or plaintext when (and only when) it was
 * explicitly asked for with FAIRWAY_GRPC_INSECURE=true, for local debugging.
 */
export type TransportSecurity = { mode: 'mtls'; tls: TlsMaterial } | { mode: 'insecure' };

/** The environment variables transportSecurityFromEnv reads. */
export const TLS_ENV = {
  ca: 'FAIRWAY_TLS_CA',
  cert: 'FAIRWAY_TLS_CERT',
  key: 'FAIRWAY_TLS_KEY',
  insecure: 'FAIRWAY_GRPC_INSECURE',
} as const;

/** Reads the three PEM files; a missing or unreadable file stops the process with its variable's name. */
export function loadTlsFiles(files: TlsFiles): TlsMaterial {
  const read = (which: keyof TlsFiles): Buffer => {
    try {
      return readFileSync(files[which]);
    } catch (err) {
      throw new ConfigInvalidError(
        `${TLS_ENV[which]}: cannot read ${files[which]} (${(err as Error).message}); run \`npm run -s certs\` for development certificates`,
        { cause: err },
      );
    }
  };
  return { ca: read('ca'), cert: read('cert'), key: read('key') };
}

/**
 * The transport security a service asked for. Mutual TLS needs all three of FAIRWAY_TLS_CA,
 * FAIRWAY_TLS_CERT and FAIRWAY_TLS_KEY; FAIRWAY_GRPC_INSECURE=true (exactly) selects plaintext.
 * Anything else (nothing set, some files only, both) stops the process: a service never falls back
 * to plaintext because a variable was forgotten. With NODE_ENV=production plaintext is refused. Call it from the service's one config module.
 */
export function transportSecurityFromEnv(env: NodeJS.ProcessEnv): TransportSecurity {
  const insecure = env[TLS_ENV.insecure];
  if (insecure !== undefined && insecure !== 'true' && insecure !== 'false') {
    throw new ConfigInvalidError(`${TLS_ENV.insecure} must be 'true' or 'false' (got '${insecure}')`);
  }
  const given = (['ca', 'cert', 'key'] as const).filter((k) => env[TLS_ENV[k]]);
  if (insecure === 'true') {
    // Plaintext has no peer identity: every caller would pass every trust policy. Never in production.
    if (env['NODE_ENV'] === 'production') {
      throw new ConfigInvalidError(
        `${TLS_ENV.insecure}=true is refused when NODE_ENV=production: gRPC without mutual TLS lets any pod call any method as any tenant; set ${TLS_ENV.ca}, ${TLS_ENV.cert} and ${TLS_ENV.key} (see docs/operations.md)`,
      );
    }
    if (given.length > 0)
      throw new ConfigInvalidError(`${TLS_ENV.insecure}=true contradicts ${given.map((k) => TLS_ENV[k]).join(', ')}: choose plaintext or mutual TLS`);
    return { mode: 'insecure' };
  }
  if (given.length < 3) {
    const missing = (['ca', 'cert', 'key'] as const).filter((k) => !env[TLS_ENV[k]]).map((k) => TLS_ENV[k]);
    throw new ConfigInvalidError(
      `gRPC needs mutual TLS: set ${missing.join(', ')} (development certificates: \`npm run -s certs\`), or ${TLS_ENV.insecure}=true for plaintext local debugging`,
    );
  }
  return { mode: 'mtls', tls: loadTlsFiles({ ca: env[TLS_ENV.ca]!, cert: env[TLS_ENV.cert]!, key: env[TLS_ENV.key]! }) };
}

/** A TransportSecurity from an options object: files, material, or an explicit `insecure: true`. */
export function transportSecurity(options: { files: TlsFiles } | { tls: TlsMaterial } | { insecure: true }): TransportSecurity {
  if ('insecure' in options) return { mode: 'insecure' };
  return { mode: 'mtls', tls: 'tls' in options ? options.tls : loadTlsFiles(options.files) };
}

/**
 * Server credentials: TLS with this service's certificate, and a client certificate signed by the
 * Fairway CA REQUIRED (checkClientCertificate), so a caller without one fails the handshake.
 */
export function serverCredentials(security: TransportSecurity): grpc.ServerCredentials {
  if (security.mode === 'insecure') return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(security.tls.ca, [{ cert_chain: security.tls.cert, private_key: security.tls.key }], true);
}

/** Options of clientCredentials. */
export interface ClientCredentialOptions {
  /**
   * The service the client expects to reach (e.g. 'worker'): the server certificate must carry that
   * identity (spiffe://<trustDomain>/<service>), checked instead of the host name, which in a
   * cluster is an address that says nothing about who answers. Without it, the host name is checked.
   */
  expectServer?: string;
  trustDomain?: string;
}

/** Client credentials: this service's certificate, and only servers signed by the Fairway CA. */
export function clientCredentials(security: TransportSecurity, options: ClientCredentialOptions = {}): grpc.ChannelCredentials {
  if (security.mode === 'insecure') return grpc.credentials.createInsecure();
  const expected = options.expectServer;
  const trustDomain = options.trustDomain ?? DEFAULT_TRUST_DOMAIN;
  return grpc.credentials.createSsl(security.tls.ca, security.tls.key, security.tls.cert, {
    checkServerIdentity: (hostname: string, cert: PeerCertificate) => {
      if (expected === undefined) return checkHostname(hostname, cert);
      const ids = spiffeIdsOf(cert);
      return ids.includes(`spiffe://${trustDomain}/${expected}`)
        ? undefined
        : new Error(`the server at ${hostname} is not '${expected}' (its certificate names ${ids.join(', ') || 'no SPIFFE id'})`);
    },
  });
}

/** The SPIFFE trust domain of Fairway's service identities. */
export const DEFAULT_TRUST_DOMAIN = 'fairway.dev';

/** The URI SANs of a certificate that are SPIFFE ids. */
export function spiffeIdsOf(cert: Pick<PeerCertificate, 'subjectaltname'> | undefined): string[] {
  const san = cert?.subjectaltname;
  if (!san) return [];
  return san
    .split(/,\s*/)
    .filter((entry) => entry.startsWith('URI:spiffe://'))
    .map((entry) => entry.slice('URI:'.length));
}

/** Binds `server` to `address` with `credentials` and resolves with the bound port. */
export function bindServerWith(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}
