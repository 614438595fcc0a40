import { Registry } from 'prom-client';
import { BufferedCounter } from './buffered-counter';

describe('BufferedCounter', () => {
  it('shows every increment made before a scrape, per label set', async () => {
    const registry = new Registry();
    const counter = new BufferedCounter({ name: 'jobs_total', help: 'h', labelNames: ['tenant', 'state'] as const, registers: [registry] });
    counter.inc('acme', 'running');
    counter.inc('acme', 'running');
    counter.inc({ tenant: 'acme', state: 'succeeded' });
    counter.inc('globex', 'running');
    const first = await registry.getSingleMetricAsString('jobs_total');
    expect(first).toContain('jobs_total{tenant="acme",state="running"} 2');
    expect(first).toContain('jobs_total{tenant="acme",state="succeeded"} 1');
    expect(first).toContain('jobs_total{tenant="globex",state="running"} 1');

    // Later increments add to what was scraped; nothing is counted twice.
    counter.inc('acme', 'running');
    const second = await registry.getSingleMetricAsString('jobs_total');
    expect(second).toContain('jobs_total{tenant="acme",state="running"} 3');
    expect(second).toContain('jobs_total{tenant="globex",state="running"} 1');
  });

  it('keeps label values apart even when one contains the other', async () => {
    const registry = new Registry();
    const counter = new BufferedCounter({ name: 'pairs_total', help: 'h', labelNames: ['a', 'b'] as const, registers: [registry] });
    counter.inc('x', 'yz');
    counter.inc('xy', 'z');
    counter.drain();
    const values = (await counter.counter.get()).values.map((v) => `${String(v.labels['a'])}|${String(v.labels['b'])}=${v.value}`).sort();
    expect(values).toEqual(['xy|z=1', 'x|yz=1']);
  });
});
