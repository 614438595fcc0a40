/**
 * Tenant context: an immutable TenantContext in AsyncLocalStorage inside a process, and one
 * inject/extract pair per carrier between processes (HTTP headers, Kafka headers, gRPC metadata,
 * W3C baggage). Extraction of a malformed value returns undefined and never throws; the boundary
 * that needs a tenant decides to reject.
 */
export { parseTenantId, isTenantId, type TenantId } from './tenant-id';
export { tenantContext, runWithTenant, currentTenant, requireTenant, type TenantContext, type TenantSource } from './tenant-context';
export { TENANT_HTTP_HEADER, injectHttpHeaders, extractHttpHeaders, type HttpHeaders } from './carriers/http-headers';
export {
  TENANT_KAFKA_HEADER,
  injectKafkaHeaders,
  extractKafkaHeaders,
  kafkaHeaderString,
  type KafkaHeaders,
  type KafkaHeaderValue,
} from './carriers/kafka-headers';
export { TENANT_GRPC_METADATA_KEY, injectGrpcMetadata, extractGrpcMetadata, type MetadataLike } from './carriers/grpc-metadata';
export { TENANT_BAGGAGE_KEY, withTenantBaggage, extractBaggage, tenantFromContextBaggage } from './carriers/baggage';
