import type { Message } from 'kafkajs';
import type { Publisher } from './group-commit-publisher';
import { JobEventHeader, JobEventLog, jobEventPartition, readJobEvents, type JobEvent } from './job-events';

/** A publisher whose sends the test settles by hand, recording what each carried. */
function manualPublisher() {
  const sends: Array<{ message: Message; settle: (err?: Error) => void }> = [];
  const publisher: Publisher = {
    pending: 0,
    close: () => Promise.resolve(),
    publish: (message) => new Promise<void>((resolve, reject) => sends.push({ message, settle: (err) => (err ? reject(err) : resolve()) })),
  };
  return { publisher, sends };
}

const event = (tenantId: string, jobId: string, state = 'running'): JobEvent => ({ jobId, tenantId, state, attempt: 1, at: '2026-01-01T00:00:00.000Z' });
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('JobEventLog', () => {
  it('sends the events of one turn as one record per partition, each tenant on its own partition, in order', async () => {
    const { publisher, sends } = manualPublisher();
    const partitions = 4;
    // Two tenants on one partition and one on another.
    const tenants = Array.from({ length: 50 }, (_, i) => `t${i}`);
    const [a, b] = tenants.filter((t) => jobEventPartition(t, partitions) === 0) as [string, string];
    const c = tenants.find((t) => jobEventPartition(t, partitions) === 1) as string;
    const log = new JobEventLog({ publisher, partitions });
    log.publish(event(a, 'j1', 'running'));
    log.publish(event(c, 'j2', 'running'));
    log.publish(event(b, 'j3', 'running'));
    log.publish(event(a, 'j1', 'succeeded'));
    await turn();
    expect(sends).toHaveLength(2);
    const first = sends.find((s) => s.message.partition === 0);
    expect(first?.message.headers).toEqual({ [JobEventHeader.count]: '3', [JobEventHeader.tenants]: `${a},${b}` });
    expect(readJobEvents(first?.message.value as string).map((e) => `${e.tenantId}/${e.jobId}:${e.state}`)).toEqual([
      `${a}/j1:running`,
      `${b}/j3:running`,
      `${a}/j1:succeeded`,
    ]);
    expect(sends.find((s) => s.message.partition === 1)?.message.headers).toEqual({ [JobEventHeader.count]: '1', [JobEventHeader.tenants]: c });
    for (const s of sends) s.settle();
  });

  it('puts a tenant on the same partition every time, within the partitions', () => {
    for (const tenant of ['acme', 'globex', 'a', 'tenant-with-a-long-name-0123456789']) {
      const p = jobEventPartition(tenant, 6);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(6);
      expect(jobEventPartition(tenant, 6)).toBe(p);
    }
  });

  it("splits a partition's events over records of at most maxEventsPerRecord", async () => {
    const { publisher, sends } = manualPublisher();
    const log = new JobEventLog({ publisher, partitions: 1, maxEventsPerRecord: 2 });
    for (const id of ['j1', 'j2', 'j3']) log.publish(event('acme', id));
    await turn();
    expect(sends.map((s) => readJobEvents(s.message.value as string).map((e) => e.jobId))).toEqual([['j1', 'j2'], ['j3']]);
    for (const s of sends) s.settle();
  });

  it('holds the events of later turns while a send is in flight, then sends them together', async () => {
    const { publisher, sends } = manualPublisher();
    const log = new JobEventLog({ publisher, partitions: 1 });
    log.publish(event('acme', 'j1'));
    await turn();
    expect(sends).toHaveLength(1);
    log.publish(event('acme', 'j2'));
    await turn();
    log.publish(event('acme', 'j3'));
    await turn();
    expect(sends).toHaveLength(1);
    sends[0]?.settle();
    await turn();
    await turn();
    expect(sends).toHaveLength(2);
    expect(readJobEvents(sends[1]?.message.value as string).map((e) => e.jobId)).toEqual(['j2', 'j3']);
    sends[1]?.settle();
    await log.flush();
  });

  it('reports a refused send with its event count and keeps going', async () => {
    const { publisher, sends } = manualPublisher();
    const failures: number[] = [];
    const log = new JobEventLog({ publisher, partitions: 1, onError: (_err, count) => failures.push(count) });
    log.publish(event('acme', 'j1'));
    log.publish(event('acme', 'j2'));
    await turn();
    sends[0]?.settle(new Error('broker down'));
    await turn();
    expect(failures).toEqual([2]);
    log.publish(event('acme', 'j3'));
    await turn();
    await turn();
    expect(sends).toHaveLength(2);
    sends[1]?.settle();
  });

  it('waits lingerMs for more events before a send', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      const { publisher, sends } = manualPublisher();
      const log = new JobEventLog({ publisher, partitions: 1, lingerMs: 20 });
      log.publish(event('acme', 'j1'));
      await turn();
      log.publish(event('acme', 'j2'));
      jest.advanceTimersByTime(19);
      await turn();
      expect(sends).toHaveLength(0);
      jest.advanceTimersByTime(1);
      await turn();
      expect(sends.map((s) => readJobEvents(s.message.value as string).map((e) => e.jobId))).toEqual([['j1', 'j2']]);
      sends[0]?.settle();
    } finally {
      jest.useRealTimers();
    }
  });

  it('reads nothing, and never throws, from a value that is not a JSON array', () => {
    expect(readJobEvents(null)).toEqual([]);
    expect(readJobEvents('{"jobId":"x"}')).toEqual([]);
    expect(readJobEvents('not json')).toEqual([]);
    expect(readJobEvents(Buffer.from(JSON.stringify([event('acme', 'j1')])))).toHaveLength(1);
  });
});
