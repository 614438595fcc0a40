import { parseTenantId, type TenantId } from '../tenant-id';
import type { TenantContext } from '../tenant-context';

/** The Kafka header that carries the tenant with every command and event. */
export const TENANT_KAFKA_HEADER = 'fairway-tenant-id';

/** Kafka message headers as kafkajs types them. */
export type KafkaHeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type KafkaHeaders = Record<string, KafkaHeaderValue>;

/** Writes the tenant into outgoing Kafka headers. */
export function injectKafkaHeaders(ctx: TenantContext, headers: KafkaHeaders): void {
  headers[TENANT_KAFKA_HEADER] = ctx.tenantId;
}

/** A header value as a string: the single value, or undefined when absent or repeated. */
export function kafkaHeaderString(value: KafkaHeaderValue): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 1 ? kafkaHeaderString(value[0]) : undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

/** The tenant in a consumed message's headers, or undefined when absent or malformed. Never throws. */
export function extractKafkaHeaders(headers: KafkaHeaders | undefined): TenantId | undefined {
  if (!headers) return undefined;
  return parseTenantId(kafkaHeaderString(headers[TENANT_KAFKA_HEADER]));
}
