import * as protoLoader from '@grpc/proto-loader';
import { z } from 'zod';
import { FairScheduler } from '@fairway/fair-scheduler';
import { LOADER_OPTIONS } from '@fairway/grpc';
import {
  applyQuotaPatch,
  parseQuotaPatch,
  patchFromMessage,
  patchToMessage,
  QUOTA_DEFAULTS,
  QUOTA_FIELDS,
  quotaFromMessage,
  quotaLimitsSchema,
  quotaMetricValues,
  quotaToMessage,
  tenantQuotaSchema,
  toCoreQuota,
} from './index';

interface FieldDescriptor {
  name: string;
  type: string;
  label: string;
  oneofIndex?: number;
}

function messageFields(name: string): Map<string, { type: string; optional: boolean; repeated: boolean }> {
  const definition = protoLoader.loadSync('fairway/scheduler/v1/scheduler_admin.proto', LOADER_OPTIONS);
  const message = definition[`fairway.scheduler.v1.${name}`] as unknown as { type: { field: FieldDescriptor[]; oneofDecl: Array<{ name: string }> } };
  return new Map(
    message.type.field.map((f) => [
      f.name,
      {
        type: f.type,
        // proto3 `optional` is a synthetic oneof named `_<field>`.
        optional: f.oneofIndex !== undefined && message.type.oneofDecl[f.oneofIndex]?.name === `_${f.name}`,
        repeated: f.label === 'LABEL_REPEATED',
      },
    ]),
  );
}

const unwrap = (schema: z.ZodTypeAny): z.ZodTypeAny =>
  schema instanceof z.ZodNullable || schema instanceof z.ZodOptional ? unwrap(schema.unwrap() as z.ZodTypeAny) : schema;

describe('the quota contract', () => {
  it('names the same fields in TenantQuota (proto) and tenantQuotaSchema, both ways', () => {
    expect([...messageFields('TenantQuota').keys()].sort()).toEqual(Object.keys(tenantQuotaSchema.shape).sort());
  });

  it('names every limit, and only those, in SetTenantQuotaRequest besides tenant_id, clear and actor', () => {
    const fields = [...messageFields('SetTenantQuotaRequest').keys()].filter((f) => !['tenantId', 'clear', 'actor'].includes(f));
    expect(fields.sort()).toEqual([...QUOTA_FIELDS].sort());
  });

  it('marks a limit optional in the proto exactly when the schema lets it be unset, and integral exactly when the schema does', () => {
    const quota = messageFields('TenantQuota');
    const request = messageFields('SetTenantQuotaRequest');
    for (const field of QUOTA_FIELDS) {
      const schema = quotaLimitsSchema.shape[field] as z.ZodTypeAny;
      const inQuota = quota.get(field);
      expect({ field, unsettable: inQuota?.optional || inQuota?.repeated || inQuota?.type === 'TYPE_MESSAGE' }).toEqual({
        field,
        unsettable: schema.isNullable(),
      });
      // Every limit can be left out of a change.
      const inRequest = request.get(field);
      expect({ field, optional: inRequest?.optional || inRequest?.repeated || inRequest?.type === 'TYPE_MESSAGE' }).toEqual({ field, optional: true });
      const base = unwrap(schema);
      if (base instanceof z.ZodNumber) {
        expect({ field, integral: base.isInt }).toEqual({
          field,
          integral: ['TYPE_UINT32', 'TYPE_INT32', 'TYPE_UINT64', 'TYPE_INT64'].includes(inQuota?.type ?? ''),
        });
      }
    }
  });

  it('has a default for every limit, valid under the schema', () => {
    expect(Object.keys(QUOTA_DEFAULTS).sort()).toEqual([...QUOTA_FIELDS].sort());
    expect(quotaLimitsSchema.parse(QUOTA_DEFAULTS)).toEqual(QUOTA_DEFAULTS);
  });
});

describe('parseQuotaPatch', () => {
  it.each([
    ['weight 0', { weight: 0 }, 'weight'],
    ['a negative rate', { rate: -1 }, 'rate'],
    ['burst below 1', { burst: 0.5 }, 'burst'],
    ['a fractional maxInFlight', { maxInFlight: 1.5 }, 'maxInFlight'],
    ['an unknown field', { weight: 1, colour: 'red' }, '(body)'],
    ['an unknown field to clear', { clear: ['colour'] }, 'clear.0'],
    ['nothing to do', {}, '(body)'],
    ['a field both set and cleared', { rate: 5, clear: ['rate'] }, 'clear'],
    ['null instead of clear', { rate: null }, 'rate'],
    ['an unknown rate basis', { rateBasis: 'tokens' }, 'rateBasis'],
    ['a per-class cap of 0', { maxInFlightByClass: { heavy: 0 } }, 'maxInFlightByClass.heavy'],
    ['a job class that is not a name', { maxInFlightByClass: { 'Heavy Jobs': 1 } }, 'maxInFlightByClass.Heavy Jobs'],
    ['no job class at all', { maxInFlightByClass: {} }, 'maxInFlightByClass'],
  ])('refuses %s, naming the field', (_name, body, path) => {
    expect(() => parseQuotaPatch(body)).toThrow(
      expect.objectContaining({ code: 'VALIDATION_FAILED', issues: expect.arrayContaining([expect.objectContaining({ path })]) }),
    );
  });

  it('clears every field, weight included, back to its default', () => {
    for (const field of QUOTA_FIELDS) {
      const patch = parseQuotaPatch({ clear: [field] });
      const current = { weight: 3, rate: 5, burst: 10, maxInFlight: 2, rateBasis: 'cost' as const, maxInFlightByClass: { heavy: 1 } };
      expect(applyQuotaPatch(current, patch)[field]).toEqual(QUOTA_DEFAULTS[field]);
    }
  });

  it('changes only the fields given, starting from the defaults for a tenant without a quota', () => {
    expect(applyQuotaPatch(undefined, parseQuotaPatch({ maxInFlight: 4 }))).toEqual({ ...QUOTA_DEFAULTS, maxInFlight: 4 });
    expect(applyQuotaPatch({ ...QUOTA_DEFAULTS, weight: 2, rate: 5, maxInFlight: 3 }, parseQuotaPatch({ rate: 7 }))).toEqual({
      ...QUOTA_DEFAULTS,
      weight: 2,
      rate: 7,
      maxInFlight: 3,
    });
    // A per-class map is replaced whole, not merged.
    expect(
      applyQuotaPatch({ ...QUOTA_DEFAULTS, maxInFlightByClass: { heavy: 1, standard: 4 } }, parseQuotaPatch({ maxInFlightByClass: { heavy: 2 } }))
        .maxInFlightByClass,
    ).toEqual({ heavy: 2 });
  });
});

describe('the proto conversions', () => {
  it('round-trips a change through SetTenantQuotaRequest, an unset field staying unset', () => {
    const patch = parseQuotaPatch({ weight: 2, maxInFlight: 3, clear: ['rate'] });
    const message = patchToMessage('acme', patch, 'ops');
    expect(message).toEqual({ tenantId: 'acme', actor: 'ops', weight: 2, maxInFlight: 3, clear: ['rate'] });
    // As decoded by proto-loader: the absent optional fields are marked absent.
    expect(patchFromMessage({ ...message, clear: ['rate'], tenantId: 'acme', actor: 'ops', _weight: 'weight', _maxInFlight: 'maxInFlight' } as never)).toEqual(
      patch,
    );
  });

  it('reads an absent limit as its default and sends an unset limit as absent', () => {
    const quota = { tenantId: 'acme', ...QUOTA_DEFAULTS, weight: 2, maxInFlight: 4, updatedAt: '2026-01-01T00:00:00.000Z', updatedBy: 'ops' };
    const message = quotaToMessage(quota);
    expect(message).not.toHaveProperty('rate');
    expect(quotaFromMessage({ ...message, _maxInFlight: 'maxInFlight' } as never)).toEqual(quota);
    // A replica that predates a field sends its proto3 default: read as the quota's default.
    expect(quotaFromMessage({ ...message, rateBasis: '', maxInFlightByClass: {} } as never)).toEqual(quota);
    const costed = { ...quota, rateBasis: 'cost' as const, rate: 500, maxInFlightByClass: { heavy: 2 } };
    expect(quotaFromMessage({ ...quotaToMessage(costed), _rate: 'rate', _maxInFlight: 'maxInFlight' } as never)).toEqual(costed);
  });

  it('gives the core every field, dropping a burst that has no rate', () => {
    expect(toCoreQuota({ ...QUOTA_DEFAULTS, weight: 2, burst: 5 })).toEqual({
      weight: 2,
      rate: null,
      burst: null,
      maxInFlight: null,
      rateBasis: 'jobs',
      maxInFlightByClass: null,
    });
    expect(toCoreQuota({ ...QUOTA_DEFAULTS, rate: 100, rateBasis: 'cost', maxInFlightByClass: { heavy: 2 } })).toMatchObject({
      rate: 100,
      rateBasis: 'cost',
      maxInFlightByClass: { heavy: 2 },
    });
  });

  it('exports the set limits under their snake_case label', () => {
    expect(quotaMetricValues({ ...QUOTA_DEFAULTS, weight: 2, maxInFlight: 4 })).toEqual({ weight: 2, max_in_flight: 4, 'rate_basis:jobs': 1 });
    expect(quotaMetricValues({ ...QUOTA_DEFAULTS, rate: 500, rateBasis: 'cost', maxInFlightByClass: { heavy: 2, interactive: 8 } })).toEqual({
      weight: 1,
      rate: 500,
      'rate_basis:cost': 1,
      'max_in_flight_by_class:heavy': 2,
      'max_in_flight_by_class:interactive': 8,
    });
  });
});

describe('the quota in the fair core', () => {
  const tiers = { interactive: { slots: 4 }, heavy: { slots: 4 } };

  it("agrees with the core's own defaults (the core keeps its invariant checks: it also runs without this lib)", () => {
    const core = new FairScheduler({ tiers });
    const untouched = core.getTenantQuota('idle');
    expect(core.setTenantQuota('reset', toCoreQuota(QUOTA_DEFAULTS))).toEqual(untouched);
  });

  it('holds a tenant to its per-class cap and to a cost-based rate', () => {
    const core = new FairScheduler({ tiers });
    core.setTenantQuota('acme', toCoreQuota(applyQuotaPatch(undefined, parseQuotaPatch({ maxInFlightByClass: { heavy: 1 } }))), 0);
    for (const id of ['h1', 'h2']) core.enqueue({ id, tenant: 'acme', jobClass: 'heavy', estimate: 1 }, 0);
    core.enqueue({ id: 'i1', tenant: 'acme', jobClass: 'interactive', estimate: 1 }, 0);
    const dispatched: string[] = [];
    for (let d = core.dispatchNext(0); d; d = core.dispatchNext(0)) dispatched.push(d.job.id);
    expect(dispatched.sort()).toEqual(['h1', 'i1']);
    expect(core.explain('acme', 0).state).toBe('at-class-max-in-flight');

    // 1,000 cost units a second, a bucket of 1,000: one 800-unit job fits, the next waits for tokens.
    const costed = new FairScheduler({ tiers });
    costed.setTenantQuota('globex', toCoreQuota(applyQuotaPatch(undefined, parseQuotaPatch({ rate: 1_000, burst: 1_000, rateBasis: 'cost' }))), 0);
    for (const id of ['c1', 'c2']) costed.enqueue({ id, tenant: 'globex', jobClass: 'interactive', estimate: 800 }, 0);
    expect(costed.dispatchNext(0)?.job.id).toBe('c1');
    expect(costed.dispatchNext(0)).toBeUndefined();
    expect(costed.explain('globex', 0).state).toBe('no-tokens');
  });
});
