import { ForbiddenError, ValidationError } from '@fairway/errors';
import { DATA_KEY_BYTES, type KeyProvider } from '@fairway/crypto';
import { tenantUnaryHandler, unaryHandler, type CallTenant, type KeyServiceHandlers } from '@fairway/grpc';
import { parseTenantId } from '@fairway/tenant-context';

/** What the key service reports of each call, for metrics. */
export type KeyCallListener = (method: 'wrap' | 'unwrap', outcome: 'ok' | 'refused' | 'error') => void;

/**
 * The tenant a wrap or unwrap is for: the one the request binds the key to, which must be the
 * tenant the call acts for (its metadata, authorised per caller by the service's trust policy). A
 * compromised edge or worker obtains the data keys of the tenants it names, one call each, never
 * the key-encryption key.
 */
function boundTenant(requested: string, call: CallTenant): string {
  const tenantId = parseTenantId(requested);
  if (!tenantId) throw new ValidationError(`'${requested.slice(0, 64)}' is not a tenant id`, [{ path: 'tenantId', message: 'invalid tenant id' }]);
  if (tenantId !== call.context.tenantId)
    throw new ForbiddenError(`this call acts for tenant '${call.context.tenantId}' and may not use the keys of '${tenantId}'`);
  return tenantId;
}

/**
 * fairway.keys.v1.KeyService over the control plane's KEK: the edge and the workers store tenants'
 * data keys wrapped, and ask here to wrap a new one or unwrap a stored one, as a KMS client does.
 */
export function keyServiceHandlers(provider: KeyProvider, onCall: KeyCallListener = () => undefined): KeyServiceHandlers {
  const counted = async <T>(method: 'wrap' | 'unwrap', fn: () => Promise<T>): Promise<T> => {
    try {
      const result = await fn();
      onCall(method, 'ok');
      return result;
    } catch (err) {
      onCall(method, err instanceof ForbiddenError || err instanceof ValidationError ? 'refused' : 'error');
      throw err;
    }
  };
  return {
    GetKeyInfo: unaryHandler(async () => ({ currentKekVersion: provider.currentKekVersion() })),
    WrapDataKey: tenantUnaryHandler((request, tenant) =>
      counted('wrap', async () => {
        const tenantId = boundTenant(request.tenantId, tenant);
        if (request.dataKey.length !== DATA_KEY_BYTES) {
          throw new ValidationError(`dataKey must be ${DATA_KEY_BYTES} bytes`, [{ path: 'dataKey', message: `must be ${DATA_KEY_BYTES} bytes` }]);
        }
        const kekVersion = request.kekVersion || provider.currentKekVersion();
        const wrappedKey = await provider.wrap(request.dataKey, kekVersion, { tenantId, keyVersion: request.keyVersion });
        return { wrappedKey, kekVersion };
      }),
    ),
    UnwrapDataKey: tenantUnaryHandler((request, tenant) =>
      counted('unwrap', async () => {
        const tenantId = boundTenant(request.tenantId, tenant);
        const dataKey = await provider.unwrap(request.wrappedKey, request.kekVersion, { tenantId, keyVersion: request.keyVersion });
        return { dataKey };
      }),
    ),
  };
}
