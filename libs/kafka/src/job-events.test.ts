import type { Message } from 'kafkajs';
import type { Publisher } from './group-commit-publisher';
import { JobEventHeader, JobEventLog, readJobEvents, type JobEvent } from './job-events';

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
  it('sends a tenant\'s events of one turn as one record, keyed and headed by the tenant, in order', async () => {
    const { publisher, sends } = manualPublisher();
    const log = new JobEventLog({ publisher });
    log.publish(event('acme', 'j1', 'running'));
    log.publish(event('globex', 'j2', 'running'));
    log.publish(event('acme', 'j1', 'succeeded'));
    await turn();
    expect(sends).toHaveLength(2);
    const acme = sends.find((s) => s.message.key === 'acme');
    expect(acme?.message.headers).toEqual({ [JobEventHeader.tenant]: 'acme', [JobEventHeader.count]: '2' });
    expect(readJobEvents(acme?.message.value as string).map((e) => `${e.jobId}:${e.state}`)).toEqual(['j1:running', 'j1:succeeded']);
    for (const s of sends) s.settle();
  });

  it('holds the events of later turns while a send is in flight, then sends them together', async () => {
    const { publisher, sends } = manualPublisher();
    const log = new JobEventLog({ publisher });
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
    const log = new JobEventLog({ publisher, onError: (_err, count) => failures.push(count) });
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

  it('reads nothing, and never throws, from a value that is not a JSON array', () => {
    expect(readJobEvents(null)).toEqual([]);
    expect(readJobEvents('{"jobId":"x"}')).toEqual([]);
    expect(readJobEvents('not json')).toEqual([]);
    expect(readJobEvents(Buffer.from(JSON.stringify([event('acme', 'j1')])))).toHaveLength(1);
  });
});
