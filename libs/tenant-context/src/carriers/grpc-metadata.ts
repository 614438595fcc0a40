import { parseTenantId, type TenantId } from '../tenant-id';
import type { TenantContext } from '../tenant-context';

/** The gRPC metadata key that carries the tenant on internal calls. */
export const TENANT_GRPC_METADATA_KEY = 'x-fairway-tenant-id';

/** The part of grpc-js `Metadata` the carrier needs, so this lib does not depend on grpc-js. */
export interface MetadataLike {
  get(key: string): Array<string | Buffer>;
  set(key: string, value: string): void;
}

/** Writes the tenant into outgoing call metadata. */
export function injectGrpcMetadata(ctx: TenantContext, metadata: MetadataLike): void {
  metadata.set(TENANT_GRPC_METADATA_KEY, ctx.tenantId);
}

/** The tenant in incoming call metadata, or undefined when absent, repeated or malformed. Never throws. */
export function extractGrpcMetadata(metadata: MetadataLike | undefined): TenantId | undefined {
  if (!metadata) return undefined;
  const values = metadata.get(TENANT_GRPC_METADATA_KEY);
  if (values.length !== 1) return undefined;
  const [value] = values;
  return parseTenantId(typeof value === 'string' ? value : value?.toString('utf8'));
}
