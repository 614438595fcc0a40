import fc from 'fast-check';
import type { KafkaMessage, Message } from 'kafkajs';
import { compileSchema } from '@fairway/jobs';
import type { TenantId } from '@fairway/tenant-context';
import {
  coalesceCommandMessages,
  commandBodySchema,
  CommandHeader,
  commandMessage,
  parseCommandMessage,
  readCommandMessage,
  type CommandBody,
  type CommandRead,
} from './command-message';

let sequence = 0;
function body(type = 'synthetic', params: Record<string, unknown> = { ms: 1 }): CommandBody {
  sequence += 1;
  return {
    jobId: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    type,
    params,
    priority: 0,
    acceptedAt: new Date(Date.UTC(2026, 10, 26, 0, 0, sequence % 60)).toISOString(),
  };
}

const trace = (n: number) => ({ traceparent: `00-${'a'.repeat(31)}${n % 10}-${'b'.repeat(16)}-01`, baggage: `tenant.id=t${n}` });

/** A produced message as a consumer reads it: Buffers for key, value and headers, and an offset. */
function consumed(message: Message, offset = '42'): KafkaMessage {
  const buf = (v: unknown) => (v === undefined || v === null ? null : Buffer.isBuffer(v) ? v : Buffer.from(String(v)));
  const headers: Record<string, Buffer> = {};
  for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = buf(value) as Buffer;
  return { key: buf(message.key), value: buf(message.value), headers, offset, timestamp: '0', attributes: 0 } as KafkaMessage;
}

function commands(reads: CommandRead[]) {
  return reads.map((read) => {
    if ('error' in read) throw new Error(`unexpected error: ${read.error.reason}`);
    return read.command;
  });
}

describe('coalesceCommandMessages', () => {
  it("puts a tenant's commands of one send into one message, each with its own trace headers", () => {
    const a = [body(), body('export', { rows: 10 }), body()];
    const out = coalesceCommandMessages(a.map((b, i) => commandMessage('acme' as TenantId, b, trace(i))));
    expect(out).toHaveLength(1);
    expect(out[0]?.key).toBe('acme');
    expect(out[0]?.headers).toEqual({ 'fairway-tenant-id': 'acme', [CommandHeader.batch]: '3' });
    const read = commands(readCommandMessage(consumed(out[0] as Message)));
    expect(read.map((c) => c.body)).toEqual(a);
    expect(read.map((c) => c.traceHeaders)).toEqual([trace(0), trace(1), trace(2)]);
    expect(new Set(read.map((c) => c.tenantId))).toEqual(new Set(['acme']));
  });

  it('keeps a lone command a single-command message, readable by parseCommandMessage', () => {
    const message = commandMessage('acme' as TenantId, body(), trace(1));
    const out = coalesceCommandMessages([message, commandMessage('globex' as TenantId, body(), {})]);
    expect(out[0]).toBe(message);
    expect(parseCommandMessage(consumed(out[0] as Message)).traceHeaders).toEqual(trace(1));
  });

  it('never mixes tenants and keeps other messages untouched, in place', () => {
    const foreign: Message = { key: 'acme', value: Buffer.from('opaque'), headers: { 'fairway-tenant-id': 'acme' } };
    const out = coalesceCommandMessages([
      commandMessage('acme' as TenantId, body(), {}),
      commandMessage('globex' as TenantId, body(), {}),
      commandMessage('acme' as TenantId, body(), {}),
      foreign,
      commandMessage('acme' as TenantId, body(), {}),
      commandMessage('globex' as TenantId, body(), {}),
    ]);
    // acme's first two commands, globex's two, the foreign message, then acme's command after it.
    expect(out.map((m) => [m.key, m.headers?.[CommandHeader.batch] ?? (m === foreign ? 'foreign' : '1')])).toEqual([
      ['acme', '2'],
      ['globex', '2'],
      ['acme', 'foreign'],
      ['acme', '1'],
    ]);
  });

  it('splits a tenant into several messages rather than grow one beyond the byte limit', () => {
    const bodies = Array.from({ length: 20 }, () => body('synthetic', { pad: 'x'.repeat(100) }));
    const out = coalesceCommandMessages(
      bodies.map((b) => commandMessage('acme' as TenantId, b, {})),
      1_000,
    );
    expect(out.length).toBeGreaterThan(1);
    for (const message of out) expect(String(message.value).length).toBeLessThanOrEqual(1_000);
    expect(out.flatMap((m) => commands(readCommandMessage(consumed(m)))).map((c) => c.body)).toEqual(bodies);
  });

  it('round-trips any mix of tenants: every command once, each tenant in its order', () => {
    const tenant = fc.constantFrom('acme', 'globex', 'initech');
    const params = fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 4 });
    fc.assert(
      fc.property(fc.array(fc.tuple(tenant, params, fc.boolean()), { maxLength: 40 }), fc.integer({ min: 200, max: 5_000 }), (specs, maxLength) => {
        const sent = specs.map(([t, p, traced], i) => ({ tenant: t, body: body('synthetic', p), trace: traced ? trace(i) : {} }));
        const out = coalesceCommandMessages(
          sent.map((s) => commandMessage(s.tenant as TenantId, s.body, s.trace)),
          maxLength,
        );
        const read = out.flatMap((m) => commands(readCommandMessage(consumed(m))));
        expect(read).toHaveLength(sent.length);
        for (const t of ['acme', 'globex', 'initech']) {
          expect(read.filter((c) => c.tenantId === t).map((c) => [c.body, c.traceHeaders])).toEqual(
            sent.filter((s) => s.tenant === t).map((s) => [s.body, s.trace]),
          );
        }
      }),
    );
  });
});

describe('readCommandMessage', () => {
  const batch = (entries: unknown[], headers: Record<string, string> = {}): KafkaMessage =>
    consumed({
      key: 'acme',
      value: JSON.stringify(entries),
      headers: { 'fairway-tenant-id': 'acme', [CommandHeader.batch]: String(entries.length), ...headers },
    });

  it('reads a bad entry as an error of its own, with the entry rebuilt as a single command to dead-letter', () => {
    const good = body();
    const reads = readCommandMessage(
      batch([
        { trace: trace(7), body: good },
        { trace: trace(8), body: { type: 'synthetic' } },
      ]),
    );
    expect(reads).toHaveLength(2);
    expect('command' in (reads[0] as CommandRead) && (reads[0] as { command: { body: unknown } }).command.body).toEqual(good);
    const bad = reads[1] as CommandRead;
    if (!('error' in bad)) throw new Error('the second entry should be an error');
    expect(bad.error.reason).toMatch(/^command 2 of the batch is not a command: jobId: Required/);
    expect(bad.source.offset).toBe('42');
    expect(bad.source.key?.toString()).toBe('acme');
    expect(JSON.parse(String(bad.source.value))).toEqual({ type: 'synthetic' });
    expect(bad.source.headers).toEqual({ ...trace(8), 'fairway-tenant-id': 'acme' });
  });

  it.each([
    [
      'a value that is not JSON',
      consumed({ key: 'acme', value: '[{', headers: { 'fairway-tenant-id': 'acme', [CommandHeader.batch]: '1' } }),
      /^the batch is not JSON/,
    ],
    ['an empty array', batch([]), /not a non-empty JSON array/],
    ['a count that disagrees', batch([{ body: body() }], { [CommandHeader.batch]: '2' }), /holds 1 commands but its fairway-batch header says 2/],
    [
      'a key for another tenant',
      consumed({ key: 'globex', value: '[]', headers: { 'fairway-tenant-id': 'acme', [CommandHeader.batch]: '1' } }),
      /does not match tenant header/,
    ],
    ['no tenant header', consumed({ key: 'acme', value: '[]', headers: { [CommandHeader.batch]: '1' } }), /no valid fairway-tenant-id header/],
  ])('refuses a batch with %s as one error whose source is the whole message', (_name, message, reason) => {
    const reads = readCommandMessage(message);
    expect(reads).toHaveLength(1);
    const only = reads[0] as CommandRead;
    if (!('error' in only)) throw new Error('expected an error');
    expect(only.error.reason).toMatch(reason);
    expect(only.source).toBe(message);
  });

  it('never takes trace headers other than the known ones from an entry', () => {
    const reads = commands(readCommandMessage(batch([{ trace: { traceparent: 'tp', 'fairway-tenant-id': 'globex', baggage: 7 }, body: body() }])));
    expect(reads[0]?.traceHeaders).toEqual({ traceparent: 'tp' });
    expect(reads[0]?.tenantId).toBe('acme');
  });

  it('tells parseCommandMessage callers to read a batch with readCommandMessage', () => {
    expect(() => parseCommandMessage(batch([{ body: body() }]))).toThrow(/read it with readCommandMessage/);
  });
});

describe('the command body check', () => {
  const compiled = compileSchema(commandBodySchema);
  const stringAround = (max: number) => fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('', 'x'.repeat(max), 'x'.repeat(max + 1)));
  const validBody = fc.record(
    {
      jobId: fc.oneof(
        fc.uuid(),
        fc.uuid().map((u) => u.toUpperCase()),
      ),
      type: fc.string({ minLength: 1, maxLength: 100 }),
      params: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue(), { maxKeys: 4 }),
      priority: fc.integer({ min: -100, max: 100 }),
      idempotencyKey: fc.string({ minLength: 1, maxLength: 255 }),
      requestHash: fc.string({ maxLength: 128 }),
      acceptedAt: fc.oneof(
        fc.date({ noInvalidDate: true, min: new Date(Date.UTC(0, 0, 1)), max: new Date(Date.UTC(9999, 11, 31)) }).map((d) => d.toISOString()),
        fc.date({ noInvalidDate: true, min: new Date(0) }).map((d) => d.toISOString().replace(/\.\d+Z$/, '.123456Z')),
      ),
    },
    { requiredKeys: ['jobId', 'type', 'params', 'acceptedAt'] },
  );
  // Each field's near misses: a wrong type, a bound just crossed, a format almost right.
  const nearMiss: Record<string, fc.Arbitrary<unknown>> = {
    jobId: fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.tuple(fc.uuid(), fc.nat(35)).map(([u, at]) => u.slice(0, at) + 'g' + u.slice(at + 1)),
      fc.uuid().map((u) => u.replace(/-/g, '')),
    ),
    type: stringAround(100),
    params: fc.oneof(fc.constant(JSON.parse('{"__proto__": 1}') as object), fc.jsonValue()),
    priority: fc.oneof(fc.integer({ min: -101, max: 101 }), fc.double(), fc.constant(undefined), fc.string({ maxLength: 3 })),
    idempotencyKey: stringAround(255),
    requestHash: stringAround(128),
    acceptedAt: fc.oneof(
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString().replace('Z', '+00:00')),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 16)),
      fc.constantFrom('2026-02-29T00:00:00Z', '2024-02-29T00:00:00Z', '2026-11-26T24:00:00Z'),
      fc.string({ maxLength: 30 }),
    ),
    extra: fc.jsonValue(),
  };
  const nearBody = fc
    .tuple(validBody, fc.array(fc.tuple(fc.constantFrom(...Object.keys(nearMiss)), fc.boolean()), { maxLength: 2 }))
    .chain(([valid, misses]) =>
      fc.tuple(
        fc.constant(valid),
        fc.tuple(...misses.map(([field, remove]) => (remove ? fc.constant([field, 'remove'] as const) : nearMiss[field]!.map((v) => [field, v] as const)))),
      ),
    )
    .map(([valid, misses]) => {
      const out: Record<string, unknown> = { ...valid };
      for (const [field, value] of misses) {
        if (value === 'remove') delete out[field];
        else out[field] = value;
      }
      return out;
    });

  it('reads any body near a command exactly as the zod schema does: verdict, value and issues', () => {
    fc.assert(
      fc.property(fc.oneof(nearBody, fc.jsonValue()), (input) => {
        const ours = compiled.safeParse(input);
        const zods = commandBodySchema.safeParse(input);
        expect(ours.success).toBe(zods.success);
        if (ours.success && zods.success) expect(ours.data).toStrictEqual(zods.data);
        if (!ours.success && !zods.success) expect(ours.error.issues).toEqual(zods.error.issues);
      }),
      { numRuns: 3_000 },
    );
  });

  it('decides a valid body without zod', () => {
    expect(compiled.complete).toBe(true);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000 }), fc.constantFrom('synthetic', 'export'), (n, type) =>
        expect(compiled.accepts({ ...body(type), idempotencyKey: `k-${n}` })).toBe(true),
      ),
    );
  });

  it.each([
    ['a job id that is not a uuid', { jobId: 'job-1' }, 'value is not a command: jobId: Invalid uuid'],
    ['an acceptedAt with an offset', { acceptedAt: '2026-11-26T10:00:00+01:00' }, 'value is not a command: acceptedAt: Invalid datetime'],
    ['a fractional priority', { priority: 1.5 }, 'value is not a command: priority: Expected integer, received float'],
    ['an unknown field', { sql: 'drop' }, "value is not a command: (root): Unrecognized key(s) in object: 'sql'"],
  ])('dead-letters %s with the reason zod gives', (_name, change, reason) => {
    const reads = readCommandMessage(consumed({ key: 'acme', value: JSON.stringify({ ...body(), ...change }), headers: { 'fairway-tenant-id': 'acme' } }));
    const only = reads[0] as CommandRead;
    if (!('error' in only)) throw new Error('expected an error');
    expect(only.error.reason).toBe(reason);
  });
});
