import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { z } from 'zod';
import { extractKafkaHeaders, kafkaHeaderString, type TenantId } from '@fairway/tenant-context';

/** Kafka header names of a command, beside the tenant header. */
export const CommandHeader = {
  jobId: 'fairway-job-id',
  jobType: 'fairway-job-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  baggage: 'baggage',
} as const;

/** The body of a command message. */
export const commandBodySchema = z
  .object({
    jobId: z.string().uuid(),
    type: z.string().min(1).max(100),
    params: z.record(z.unknown()),
    priority: z.number().int().min(-100).max(100).default(0),
    idempotencyKey: z.string().min(1).max(255).optional(),
    requestHash: z.string().max(128).optional(),
    acceptedAt: z.string().datetime(),
  })
  .strict();

export type CommandBody = z.output<typeof commandBodySchema>;

/** A command read from Kafka, with its tenant from the headers and its trace headers kept. */
export interface CommandEnvelope {
  tenantId: TenantId;
  body: CommandBody;
  traceHeaders: Record<string, string>;
}

/** Builds the Kafka message of a command: key = tenant id, tenant and ids in the headers. */
export function commandMessage(tenantId: TenantId, body: CommandBody, traceHeaders: Record<string, string>): Message {
  return {
    key: tenantId,
    value: JSON.stringify(body),
    headers: {
      ...traceHeaders,
      'fairway-tenant-id': tenantId,
      [CommandHeader.jobId]: body.jobId,
      [CommandHeader.jobType]: body.type,
    },
  };
}

/** Why a message could not be read as a command; goes into the dead-letter record. */
export class CommandParseError extends Error {
  constructor(readonly reason: string) {
    super(reason);
  }
}

/**
 * Reads a consumed message as a command. The tenant comes from the headers of THIS message (never
 * from an ambient context), and must agree with the message key. Throws CommandParseError with the
 * reason for a dead-letter record.
 */
export function parseCommandMessage(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): CommandEnvelope {
  const headers = (message.headers ?? {}) as IHeaders;
  const tenantId = extractKafkaHeaders(headers);
  if (!tenantId) throw new CommandParseError('no valid fairway-tenant-id header');
  const key = message.key?.toString('utf8');
  if (key !== tenantId) throw new CommandParseError(`message key '${key ?? ''}' does not match tenant header '${tenantId}'`);
  if (!message.value) throw new CommandParseError('empty message value');
  let json: unknown;
  try {
    json = JSON.parse(message.value.toString('utf8'));
  } catch (err) {
    throw new CommandParseError(`value is not JSON: ${(err as Error).message}`);
  }
  const parsed = commandBodySchema.safeParse(json);
  if (!parsed.success) {
    throw new CommandParseError(
      `value is not a command: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`,
    );
  }
  const traceHeaders: Record<string, string> = {};
  for (const name of [CommandHeader.traceparent, CommandHeader.tracestate, CommandHeader.baggage]) {
    const value = kafkaHeaderString(headers[name]);
    if (value !== undefined) traceHeaders[name] = value;
  }
  return { tenantId, body: parsed.data, traceHeaders };
}
