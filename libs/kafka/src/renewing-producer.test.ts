import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';
import { RenewingProducer } from './renewing-producer';

/** A stand-in kafkajs producer: sends settle when the test says, events are recorded. */
class StubProducer {
  readonly events = { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' } as Producer['events'];
  connected = false;
  connectFails = false;
  readonly sends: Array<{ record: ProducerRecord; resolve: (m: RecordMetadata[]) => void; reject: (e: Error) => void }> = [];
  private readonly listeners = new Map<string, Set<() => void>>();

  connect = async () => {
    if (this.connectFails) throw new Error('broker unreachable');
    this.connected = true;
    this.emit(this.events.CONNECT);
  };
  disconnect = async () => {
    this.connected = false;
    this.emit(this.events.DISCONNECT);
  };
  on = (event: string, listener: () => void) => {
    const set = this.listeners.get(event) ?? new Set();
    set.add(listener);
    this.listeners.set(event, set);
    return () => set.delete(listener);
  };
  send = (record: ProducerRecord) => new Promise<RecordMetadata[]>((resolve, reject) => this.sends.push({ record, resolve, reject }));
  sendBatch = () => Promise.resolve([]);
  logger = () => undefined;
  private emit(event: string): void {
    for (const listener of this.listeners.get(event) ?? []) listener();
  }
}

/** A RenewingProducer over stubs; the producers made `unreachable`-th (0-based) cannot connect. */
function renewing(unreachable: number[] = []): { producer: RenewingProducer; made: StubProducer[] } {
  const made: StubProducer[] = [];
  const producer = new RenewingProducer(() => {
    const stub = new StubProducer();
    stub.connectFails = unreachable.includes(made.length);
    made.push(stub);
    return stub as unknown as Producer;
  });
  return { producer, made };
}

const record = (value: string): ProducerRecord => ({ topic: 't', messages: [{ value }] });
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Sends `value` on producer `index` of `made` and fails that send with `reason`. */
async function failSend(producer: RenewingProducer, made: StubProducer[], index: number, value: string, reason: string): Promise<void> {
  const sent = producer.send(record(value));
  const stub = made[index] as StubProducer;
  stub.sends[stub.sends.length - 1]?.reject(new Error(reason));
  await expect(sent).rejects.toThrow(reason);
}

/** Sends `value`, waits until it reached producer `index` of `made`, and acknowledges it there. */
async function succeedSend(producer: RenewingProducer, made: StubProducer[], index: number, value: string): Promise<void> {
  const sent = producer.send(record(value));
  await flush();
  const stub = made[index] as StubProducer;
  stub.sends[stub.sends.length - 1]?.resolve([]);
  await sent;
}

describe('RenewingProducer', () => {
  it('keeps one producer while sends succeed', async () => {
    const { producer, made } = renewing();
    await producer.connect();
    const first = producer.send(record('a'));
    made[0]?.sends[0]?.resolve([]);
    await first;
    const second = producer.send(record('b'));
    await flush();
    made[0]?.sends[1]?.resolve([]);
    await second;
    expect({ producers: made.length, renewals: producer.renewals }).toEqual({ producers: 1, renewals: 0 });
  });

  it('sends the next record through a new, connected producer after a send failed', async () => {
    const { producer, made } = renewing();
    await producer.connect();
    await failSend(producer, made, 0, 'a', 'connection lost');
    await succeedSend(producer, made, 1, 'b');
    expect(made).toHaveLength(2);
    expect(made[1]?.connected).toBe(true);
    expect(made[1]?.sends.map((s) => s.record.messages[0]?.value)).toEqual(['b']);
    expect({ renewals: producer.renewals, oldConnected: made[0]?.connected }).toEqual({ renewals: 1, oldConnected: false });
  });

  it('disconnects the old producer only once the sends still in flight on it have settled', async () => {
    const { producer, made } = renewing();
    await producer.connect();
    const slow = producer.send(record('slow'));
    await failSend(producer, made, 0, 'a', 'timeout');
    await succeedSend(producer, made, 1, 'b');
    expect(made[0]?.connected).toBe(true);
    made[0]?.sends[0]?.resolve([]);
    await slow;
    await flush();
    expect(made[0]?.connected).toBe(false);
  });

  it('moves listeners to the new producer and reports its connection', async () => {
    const { producer, made } = renewing();
    const seen: string[] = [];
    producer.on(producer.events.CONNECT, () => seen.push('connect'));
    producer.on(producer.events.DISCONNECT, () => seen.push('disconnect'));
    await producer.connect();
    await failSend(producer, made, 0, 'a', 'lost');
    await succeedSend(producer, made, 1, 'b');
    await flush();
    // The retired producer's disconnect is not the service's: its listeners had moved on.
    expect(seen).toEqual(['connect', 'connect']);
  });

  it('removes a listener from the producer that holds it, also after a renewal moved it', async () => {
    const { producer, made } = renewing();
    const seen: string[] = [];
    const remove = producer.on(producer.events.CONNECT, () => seen.push('connect'));
    await producer.connect();
    await failSend(producer, made, 0, 'a', 'lost');
    await succeedSend(producer, made, 1, 'b');
    remove();
    await made[1]?.connect();
    expect(seen).toEqual(['connect', 'connect']);
  });

  it('fails the send when the new producer cannot connect, and tries a new one on the next send', async () => {
    // The second producer finds the broker still down; the third reaches it.
    const { producer, made } = renewing([1]);
    await producer.connect();
    await failSend(producer, made, 0, 'a', 'lost');
    await expect(producer.send(record('b'))).rejects.toThrow('broker unreachable');
    await succeedSend(producer, made, 2, 'c');
    expect(made.map((p) => p.sends.map((s) => s.record.messages[0]?.value))).toEqual([['a'], [], ['c']]);
    expect(producer.renewals).toBe(1);
  });
});
