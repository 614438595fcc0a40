import type { IHeaders, KafkaMessage, Message } from 'kafkajs';
import { z } from 'zod';
import { compileSchema } from '@fairway/jobs';
import { extractKafkaHeaders, kafkaHeaderString, TENANT_KAFKA_HEADER, type TenantId } from '@fairway/tenant-context';

/** Kafka header names of a command, beside the tenant header. */
export const CommandHeader = {
  jobId: 'fairway-job-id',
  jobType: 'fairway-job-type',
  traceparent: 'traceparent',
  tracestate: 'tracestate',
  baggage: 'baggage',
  /**
   * On a message that carries several commands of one tenant (see coalesceCommandMessages): how
   * many. Its value is then a JSON array of `{ "trace": {...}, "body": {...} }`, one per command.
   */
  batch: 'fairway-batch',
} as const;

/** The tenant header every command message carries. */
const TENANT_HEADER = TENANT_KAFKA_HEADER;

/** The per-command trace headers: in a single command's headers, or in a batch entry's `trace`. */
const TRACE_HEADERS = [CommandHeader.traceparent, CommandHeader.tracestate, CommandHeader.baggage] as const;

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

/** The body schema with its compiled check: ingest validates every command with it. */
const compiledBody = compileSchema(commandBodySchema);

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
      [TENANT_HEADER]: tenantId,
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

/** The message a command came in, as much of it as a dead-letter record keeps. */
export type CommandSource = Pick<KafkaMessage, 'key' | 'value' | 'headers' | 'offset'>;

/** One command read from a message: the command, or why it cannot be one; `source` is what to dead-letter. */
export type CommandRead = { command: CommandEnvelope; source: CommandSource } | { error: CommandParseError; source: CommandSource };

/** The message's tenant: its tenant header, which must agree with its key. */
function messageTenant(message: Pick<KafkaMessage, 'key' | 'headers'>): TenantId {
  const tenantId = extractKafkaHeaders((message.headers ?? {}) as IHeaders);
  if (!tenantId) throw new CommandParseError('no valid fairway-tenant-id header');
  const key = message.key?.toString('utf8');
  if (key !== tenantId) throw new CommandParseError(`message key '${key ?? ''}' does not match tenant header '${tenantId}'`);
  return tenantId;
}

function commandBody(json: unknown, where = 'value'): CommandBody {
  const parsed = compiledBody.safeParse(json);
  if (!parsed.success) {
    throw new CommandParseError(`${where} is not a command: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  return parsed.data;
}

function parseJson(value: Buffer | null, what: string): unknown {
  if (!value) throw new CommandParseError('empty message value');
  try {
    return JSON.parse(value.toString('utf8'));
  } catch (err) {
    throw new CommandParseError(`${what} is not JSON: ${(err as Error).message}`);
  }
}

/**
 * Reads a consumed message as a command. The tenant comes from the headers of THIS message (never
 * from an ambient context), and must agree with the message key. Throws CommandParseError with the
 * reason for a dead-letter record. A message carrying several commands is refused here: read those
 * with {@link readCommandMessage}.
 */
export function parseCommandMessage(message: Pick<KafkaMessage, 'key' | 'value' | 'headers'>): CommandEnvelope {
  const headers = (message.headers ?? {}) as IHeaders;
  const tenantId = messageTenant(message);
  if (headers[CommandHeader.batch] !== undefined) throw new CommandParseError('the message carries several commands; read it with readCommandMessage');
  const body = commandBody(parseJson(message.value, 'value'));
  const traceHeaders: Record<string, string> = {};
  for (const name of TRACE_HEADERS) {
    const value = kafkaHeaderString(headers[name]);
    if (value !== undefined) traceHeaders[name] = value;
  }
  return { tenantId, body, traceHeaders };
}

/** A batch entry's trace headers: string values of the known names only. */
function entryTrace(trace: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof trace !== 'object' || trace === null) return out;
  for (const name of TRACE_HEADERS) {
    const value = (trace as Record<string, unknown>)[name];
    if (typeof value === 'string') out[name] = value;
  }
  return out;
}

/**
 * Reads every command a consumed message carries: one for a single command, each entry of a batch
 * (see {@link coalesceCommandMessages}). Never throws. A message whose tenant or shape is wrong is
 * one error with the message itself as its source; a bad entry of a good batch is an error of its
 * own whose source is that entry rebuilt as a single-command message (tenant, trace headers, body),
 * so the dead-letter record holds exactly the command that failed and can be replayed alone.
 */
export function readCommandMessage(message: CommandSource): CommandRead[] {
  const headers = (message.headers ?? {}) as IHeaders;
  if (headers[CommandHeader.batch] === undefined) {
    try {
      return [{ command: parseCommandMessage(message), source: message }];
    } catch (err) {
      return [{ error: asParseError(err), source: message }];
    }
  }
  let tenantId: TenantId;
  let entries: unknown[];
  try {
    tenantId = messageTenant(message);
    const json = parseJson(message.value, 'the batch');
    if (!Array.isArray(json) || json.length === 0) throw new CommandParseError('the batch is not a non-empty JSON array of commands');
    const declared = kafkaHeaderString(headers[CommandHeader.batch]);
    if (declared !== String(json.length))
      throw new CommandParseError(`the batch holds ${json.length} commands but its ${CommandHeader.batch} header says ${declared ?? '(none)'}`);
    entries = json;
  } catch (err) {
    return [{ error: asParseError(err), source: message }];
  }
  return entries.map((entry, i): CommandRead => {
    const trace = entryTrace((entry as { trace?: unknown } | null)?.trace);
    const rawBody = (entry as { body?: unknown } | null)?.body;
    const source = new EntrySource(message, tenantId, trace, rawBody);
    try {
      const body = commandBody(rawBody, `command ${i + 1} of the batch`);
      return { command: { tenantId, body, traceHeaders: trace }, source };
    } catch (err) {
      return { error: asParseError(err), source };
    }
  });
}

/**
 * A batch entry as a single-command message, for a dead-letter record. Built on first read: almost
 * every entry becomes a job, and re-serialising each body would cost the ingest for nothing.
 */
class EntrySource implements CommandSource {
  private built: Pick<KafkaMessage, 'value' | 'headers'> | undefined;

  constructor(
    private readonly message: CommandSource,
    private readonly tenantId: TenantId,
    private readonly trace: Record<string, string>,
    private readonly body: unknown,
  ) {}

  get key(): Buffer | null {
    return this.message.key;
  }

  get offset(): string {
    return this.message.offset;
  }

  get value(): Buffer | null {
    return this.build().value;
  }

  get headers(): KafkaMessage['headers'] {
    return this.build().headers;
  }

  private build(): Pick<KafkaMessage, 'value' | 'headers'> {
    this.built ??= { value: Buffer.from(JSON.stringify(this.body ?? null)), headers: { ...this.trace, [TENANT_HEADER]: this.tenantId } };
    return this.built;
  }
}

function asParseError(err: unknown): CommandParseError {
  return err instanceof CommandParseError ? err : new CommandParseError((err as Error).message);
}

/**
 * Largest value of one coalesced message, in UTF-16 code units (JavaScript string length). One
 * unit is at most 3 bytes of UTF-8, so the default stays below the broker's 1 MiB record batch limit.
 */
export const MAX_COALESCED_LENGTH = 256 * 1024;

/**
 * Coalesces the commands of one tenant in `messages` (what one group-commit send carries) into one
 * Kafka message per tenant: fewer, larger records cost the producer, the broker and every consumer
 * far less than one record per command (bench:edge). Each command keeps its own trace headers in its
 * entry; the message keeps the tenant key and header, so it lands on the tenant's partition, in
 * order. A tenant's single command stays a single-command message, messages that are not commands
 * built by {@link commandMessage} pass through untouched, and no coalesced value grows beyond
 * `maxLength` (see MAX_COALESCED_LENGTH). The order of a tenant's commands is kept.
 */
export function coalesceCommandMessages(messages: Message[], maxLength = MAX_COALESCED_LENGTH): Message[] {
  // One slot per output message; a group fills the slot of its first command.
  const slots: Array<Message | { tenant: string; entries: string[]; length: number; first: Message }> = [];
  const open = new Map<string, { tenant: string; entries: string[]; length: number; first: Message }>();
  for (const message of messages) {
    const entry = batchEntry(message);
    const tenant = typeof message.key === 'string' ? message.key : undefined;
    if (entry === undefined || tenant === undefined) {
      // Not coalescable: later commands of this key start a new group, after this message.
      if (tenant !== undefined) open.delete(tenant);
      slots.push(message);
      continue;
    }
    const group = open.get(tenant);
    if (group && group.length + entry.length + 1 <= maxLength) {
      group.entries.push(entry);
      group.length += entry.length + 1;
      continue;
    }
    const created = { tenant, entries: [entry], length: entry.length + 2, first: message };
    open.set(tenant, created);
    slots.push(created);
  }
  return slots.map((slot) => {
    if (!('entries' in slot)) return slot;
    if (slot.entries.length === 1) return slot.first;
    return {
      key: slot.tenant,
      value: `[${slot.entries.join(',')}]`,
      headers: { [TENANT_HEADER]: slot.tenant, [CommandHeader.batch]: String(slot.entries.length) },
    };
  });
}

/** A single command's batch entry (JSON text), or undefined when the message is not one. */
function batchEntry(message: Message): string | undefined {
  const headers = message.headers;
  if (typeof message.value !== 'string' || !headers || headers[CommandHeader.batch] !== undefined) return undefined;
  if (headers[TENANT_HEADER] !== message.key) return undefined;
  const trace: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (name === TENANT_HEADER || name === CommandHeader.jobId || name === CommandHeader.jobType) continue;
    // Anything but the trace headers (or a non-string one) would be lost in an entry: keep it whole.
    if (typeof value !== 'string' || !(TRACE_HEADERS as readonly string[]).includes(name)) return undefined;
    trace[name] = value;
  }
  return `{"trace":${JSON.stringify(trace)},"body":${message.value}}`;
}
