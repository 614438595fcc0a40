import * as grpc from '@grpc/grpc-js';
import { DATA_KEY_BYTES, type KeyProvider, type WrapContext } from '@fairway/crypto';
import { TENANT_GRPC_METADATA_KEY } from '@fairway/tenant-context';
import type { KeyServiceClient } from './generated/fairway/keys/v1/KeyService';
import { loadKeyServiceProto } from './protos';
import { fromGrpcError } from './status';

/** Options of RemoteKeyProvider. */
export interface RemoteKeyProviderOptions {
  /** host:port of the key-holding service (the control plane's KEY_SERVICE_ADDRESS). */
  address: string;
  credentials: grpc.ChannelCredentials;
  /** Deadline of each call (default 5 s). */
  timeoutMs?: number;
  /** How often the current KEK version is asked again (default 60 s). */
  refreshMs?: number;
  /** How long connect waits for the key service to come up (default 30 s): services may start in any order. */
  connectTimeoutMs?: number;
}

/**
 * A KeyProvider that holds no key: wrap and unwrap are calls to the control plane's KeyService over
 * mutual TLS, the way a KMS client calls Encrypt and Decrypt. Each call names its tenant in the
 * metadata, and the service refuses a call whose metadata and binding disagree, so a compromised
 * caller obtains the data keys of the tenants it asks for, never the key-encryption key. Unwrapped
 * keys are cached briefly by the caller's DataKeyCache, not here.
 *
 *   const keys = await RemoteKeyProvider.connect({ address, credentials: clientCredentials(security, { expectServer: 'control-plane' }) });
 *   const cipher = tenantKeyCipher(pool, keys);
 */
export class RemoteKeyProvider implements KeyProvider {
  readonly #client: KeyServiceClient;
  readonly #timeoutMs: number;
  #kekVersion: string;
  readonly #timer: NodeJS.Timeout;

  private constructor(client: KeyServiceClient, kekVersion: string, options: RemoteKeyProviderOptions) {
    this.#client = client;
    this.#kekVersion = kekVersion;
    this.#timeoutMs = options.timeoutMs ?? 5000;
    // A KEK rotation on the control plane reaches new wraps within refreshMs; a failed refresh keeps
    // the version we have (wraps with it still unwrap, the service keeps every version it had).
    this.#timer = setInterval(() => {
      this.#keyInfo().then(
        (version) => (this.#kekVersion = version),
        () => undefined,
      );
    }, options.refreshMs ?? 60_000);
    this.#timer.unref();
  }

  /** Connects and reads the current KEK version; rejects when the key service cannot be reached. */
  static async connect(options: RemoteKeyProviderOptions): Promise<RemoteKeyProvider> {
    const KeyService = loadKeyServiceProto().fairway.keys.v1.KeyService;
    const client = new KeyService(options.address, options.credentials);
    const probe = new RemoteKeyProvider(client, '', options);
    try {
      // Services may start in any order: wait for the channel to connect, then ask.
      const deadline = Date.now() + (options.connectTimeoutMs ?? 30_000);
      await new Promise<void>((resolve, reject) => client.waitForReady(deadline, (err) => (err ? reject(err) : resolve())));
      probe.#kekVersion = await probe.#keyInfo();
    } catch (err) {
      probe.close();
      throw new Error(`the key service at ${options.address} (KEY_SERVICE_ADDRESS) cannot be reached: ${(err as Error).message}`, { cause: err });
    }
    return probe;
  }

  currentKekVersion(): string {
    return this.#kekVersion;
  }

  async wrap(dek: Buffer, kekVersion: string | undefined, context: WrapContext): Promise<Buffer> {
    const response = await this.#call<{ wrappedKey?: Buffer; kekVersion?: string }>(
      (metadata, options, done) =>
        this.#client.WrapDataKey(
          { tenantId: context.tenantId, keyVersion: context.keyVersion, dataKey: dek, kekVersion: kekVersion ?? '' },
          metadata,
          options,
          done,
        ),
      context.tenantId,
    );
    if (!response.wrappedKey || response.wrappedKey.length === 0) throw new Error('the key service returned no wrapped key');
    if (kekVersion !== undefined && response.kekVersion !== kekVersion)
      throw new Error(`the key service wrapped with KEK ${response.kekVersion ?? '?'}, not ${kekVersion}`);
    return Buffer.from(response.wrappedKey);
  }

  async unwrap(wrapped: Buffer, kekVersion: string, context: WrapContext): Promise<Buffer> {
    const response = await this.#call<{ dataKey?: Buffer }>(
      (metadata, options, done) =>
        this.#client.UnwrapDataKey({ tenantId: context.tenantId, keyVersion: context.keyVersion, wrappedKey: wrapped, kekVersion }, metadata, options, done),
      context.tenantId,
    );
    if (!response.dataKey || response.dataKey.length !== DATA_KEY_BYTES) throw new Error(`the key service returned no ${DATA_KEY_BYTES}-byte data key`);
    return Buffer.from(response.dataKey);
  }

  /** Stops refreshing and closes the channel. */
  close(): void {
    clearInterval(this.#timer);
    this.#client.close();
  }

  async #keyInfo(): Promise<string> {
    const info = await this.#call<{ currentKekVersion?: string }>((metadata, options, done) => this.#client.GetKeyInfo({}, metadata, options, done));
    if (!info.currentKekVersion) throw new Error('the key service names no current KEK version');
    return info.currentKekVersion;
  }

  #call<T>(
    send: (metadata: grpc.Metadata, options: grpc.CallOptions, done: (err: grpc.ServiceError | null, value?: T) => void) => void,
    tenantId?: string,
  ): Promise<T> {
    const metadata = new grpc.Metadata();
    if (tenantId !== undefined) metadata.set(TENANT_GRPC_METADATA_KEY, tenantId);
    return new Promise((resolve, reject) => {
      send(metadata, { deadline: Date.now() + this.#timeoutMs }, (err, value) => (err ? reject(fromGrpcError('the key service', err)) : resolve(value as T)));
    });
  }
}
