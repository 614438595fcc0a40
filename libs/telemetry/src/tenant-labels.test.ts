import { Counter, Gauge, Registry } from 'prom-client';
import {
  DEFAULT_TENANT_LABEL_LIMIT,
  FOLDED_COUNTER_NAME,
  INVALID_TENANT_LABEL,
  NO_TENANT_LABEL,
  OTHER_TENANT_LABEL,
  TenantLabeller,
  setTenantGauge,
  tenantLabeller,
  tenantLabelLimitFromEnv,
} from './tenant-labels';
import { TenantQuotaExporter } from './tenant-quota-metrics';
import { createMetricsRegistry } from './metrics';

async function foldedCount(registry: Registry): Promise<number> {
  const metric = await registry.getSingleMetric(FOLDED_COUNTER_NAME)?.get();
  return metric?.values[0]?.value ?? 0;
}

describe('TenantLabeller', () => {
  it('keeps the first `limit` tenants and folds every later one into _other', () => {
    const labeller = new TenantLabeller({ limit: 3 });
    expect(['t-1', 't-2', 't-3'].map((t) => labeller.label(t))).toEqual(['t-1', 't-2', 't-3']);
    expect(labeller.label('t-4')).toBe(OTHER_TENANT_LABEL);
    expect(labeller.label('t-5')).toBe(OTHER_TENANT_LABEL);
    expect(labeller.size).toBe(3);
  });

  it('never evicts an admitted tenant, however many others come later', () => {
    const labeller = new TenantLabeller({ limit: 2 });
    labeller.label('acme');
    labeller.label('globex');
    for (let i = 0; i < 500; i += 1) labeller.label(`noise-${i}`);
    expect(labeller.label('acme')).toBe('acme');
    expect(labeller.label('globex')).toBe('globex');
    expect(labeller.has('noise-0')).toBe(false);
  });

  it('bounds the distinct label values to limit plus the three reserved ones', () => {
    const labeller = new TenantLabeller({ limit: 10 });
    const values = new Set<string>();
    for (let i = 0; i < 5_000; i += 1) values.add(labeller.label(`tenant-${i}`));
    values.add(labeller.label(undefined));
    values.add(labeller.label('Not A Tenant!'));
    expect(values.size).toBe(10 + 3);
    expect(values.has(OTHER_TENANT_LABEL)).toBe(true);
  });

  it.each([
    ['undefined', undefined, NO_TENANT_LABEL],
    ['null', null, NO_TENANT_LABEL],
    ['empty', '', NO_TENANT_LABEL],
    ['upper case', 'ACME', INVALID_TENANT_LABEL],
    ['a label-breaking quote', 'acme"}', INVALID_TENANT_LABEL],
    ['64 characters', 'a'.repeat(64), INVALID_TENANT_LABEL],
  ])('maps %s to a reserved value without using a slot', (_name, input, expected) => {
    const labeller = new TenantLabeller({ limit: 1 });
    expect(labeller.label(input)).toBe(expected);
    expect(labeller.size).toBe(0);
    expect(labeller.label('acme')).toBe('acme');
  });

  it('counts every folded sample in fairway_metrics_tenant_labels_folded_total', async () => {
    const registry = new Registry();
    const labeller = new TenantLabeller({ limit: 1, registry });
    labeller.label('acme');
    labeller.label('acme');
    expect(await foldedCount(registry)).toBe(0);
    labeller.label('globex');
    labeller.label('initech');
    labeller.label('globex');
    expect(await foldedCount(registry)).toBe(3);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p', (limit) => {
    expect(() => new TenantLabeller({ limit })).toThrow(/integer >= 1/);
  });
});

describe('tenantLabelLimitFromEnv', () => {
  it.each([
    ['unset', undefined, DEFAULT_TENANT_LABEL_LIMIT],
    ['blank', '  ', DEFAULT_TENANT_LABEL_LIMIT],
    ['a number', '250', 250],
  ])('reads %s as %p', (_name, value, expected) => {
    expect(tenantLabelLimitFromEnv(value === undefined ? {} : { METRICS_TENANT_LABEL_LIMIT: value })).toBe(expected);
  });

  it.each(['0', '-3', 'ten', '1e400', '2.5'])('stops on %p with the variable named', (value) => {
    expect(() => tenantLabelLimitFromEnv({ METRICS_TENANT_LABEL_LIMIT: value })).toThrow(/METRICS_TENANT_LABEL_LIMIT must be an integer >= 1/);
  });
});

describe('metrics with bounded tenant labels', () => {
  it('gives every metric of a registry the same labeller, bounded as configured', async () => {
    const registry = createMetricsRegistry('test', { tenantLabelLimit: 2 });
    const labeller = tenantLabeller(registry);
    expect(labeller.limit).toBe(2);
    expect(tenantLabeller(registry)).toBe(labeller);
    const counter = new Counter({ name: 'jobs_total', help: 'h', labelNames: ['tenant'], registers: [registry] });
    for (const tenant of ['a', 'b', 'c', 'd', 'a']) counter.inc({ tenant: labeller.label(tenant) });
    const values = (await counter.get()).values.map((v) => [v.labels['tenant'], v.value]);
    expect(values).toEqual(
      expect.arrayContaining([
        ['a', 2],
        ['b', 1],
        [OTHER_TENANT_LABEL, 2],
      ]),
    );
    expect(values).toHaveLength(3);
    expect(await registry.metrics()).toContain(`${FOLDED_COUNTER_NAME}{service="test"} 2`);
  });

  it('sums folded tenants in a gauge snapshot and drops tenants that left it', async () => {
    const registry = new Registry();
    const labeller = new TenantLabeller({ limit: 1, registry });
    const depth = new Gauge({ name: 'depth', help: 'h', labelNames: ['tenant'], registers: [registry] });
    setTenantGauge(depth, labeller, [
      ['acme', 5],
      ['globex', 3],
      ['initech', 4],
    ]);
    expect((await depth.get()).values.map((v) => [v.labels['tenant'], v.value])).toEqual([
      ['acme', 5],
      [OTHER_TENANT_LABEL, 7],
    ]);
    setTenantGauge(depth, labeller, [['acme', 1]]);
    expect((await depth.get()).values.map((v) => [v.labels['tenant'], v.value])).toEqual([['acme', 1]]);
  });

  it('exports quotas as fairway_tenant_quota{tenant, quota} and removes a deleted tenant', async () => {
    const registry = new Registry();
    const quotas = new TenantQuotaExporter(registry, new TenantLabeller({ limit: 5, registry }));
    quotas.replaceAll([
      ['acme', { weight: 3, rate: 50, burst: 100, max_in_flight: 8 }],
      ['globex', { weight: 1, max_in_flight: 2 }],
    ]);
    const text = await registry.metrics();
    expect(text).toContain('fairway_tenant_quota{tenant="acme",quota="max_in_flight"} 8');
    expect(text).toContain('fairway_tenant_quota{tenant="acme",quota="rate"} 50');
    expect(text).toContain('fairway_tenant_quota{tenant="globex",quota="weight"} 1');
    expect(text).not.toContain('fairway_tenant_quota{tenant="globex",quota="rate"}');
    quotas.remove('acme');
    expect(await registry.metrics()).not.toContain('tenant="acme"');
  });
});
