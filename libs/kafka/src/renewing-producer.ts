import type { Logger, Producer, ProducerBatch, ProducerEvents, ProducerRecord, RecordMetadata, Transaction } from 'kafkajs';

type ProducerEvent = ProducerEvents[keyof ProducerEvents];
type Listener = (event: never) => void;
interface ListenerEntry {
  event: ProducerEvent;
  listener: Listener;
}

/** One kafkajs producer of a RenewingProducer, with the sends still in flight on it. */
interface Generation {
  readonly producer: Producer;
  inFlight: number;
  /** Removes this producer's copy of each of the caller's listeners. */
  readonly detach: Map<ListenerEntry, () => void>;
}

/**
 * An idempotent producer that takes a new producer id after any send that failed, so that the
 * sequence numbers of a batch whose fate is unknown are never given to other messages.
 *
 * Why: kafkajs numbers each partition's batches and, when a send fails, hands the failed batch's
 * sequence numbers back to the next send (sendMessages rolls them back). If the broker had in fact
 * stored the failed batch - it was killed, or the connection dropped, after the append and before
 * its answer arrived - the next batch, other messages under the same numbers and of the same count,
 * is taken by the broker for a retry of the stored one and acknowledged without being written: the
 * callers are told their messages are stored, and they are not. (The chaos suite once found a command
 * answered 202 and never ingested after a broker kill; this is the likely cause - that run's broker
 * log was not kept, so it is not proven for that run. `renewing-producer.int.test.ts` shows the
 * loss with kafkajs alone and its absence here.) The Java client bumps the producer's epoch in that
 * case (KIP-360); kafkajs has no such step, so the next send after a failure goes through a fresh
 * producer, whose InitProducerId gives a new id with sequences from 0.
 *
 * What a new id gives up: the broker no longer recognises a resend of the failed batch as a
 * duplicate. Fairway does not rely on that across a failed send (createIdempotentProducer): a
 * command sent twice carries the same job id, and the scheduler's insert keyed by it keeps one job.
 *
 * Listeners registered with `on` follow the producer in use; the retired producer is disconnected
 * once the sends still in flight on it have settled.
 */
export class RenewingProducer implements Producer {
  readonly events: ProducerEvents;
  private current: Generation;
  /** A send failed on the current producer: the next send takes a new one. */
  private stale = false;
  private renewal: Promise<void> | undefined;
  private readonly listeners = new Set<ListenerEntry>();
  private renewed = 0;

  constructor(private readonly create: () => Producer) {
    this.current = this.generation(create());
    this.events = this.current.producer.events;
  }

  /** How many new producers this one has taken after failed sends. */
  get renewals(): number {
    return this.renewed;
  }

  connect(): Promise<void> {
    return this.current.producer.connect();
  }

  async disconnect(): Promise<void> {
    await this.renewal?.catch(() => undefined);
    await this.current.producer.disconnect();
  }

  isIdempotent(): boolean {
    return true;
  }

  readonly on = ((event: ProducerEvent, listener: Listener) => {
    const entry: ListenerEntry = { event, listener };
    this.listeners.add(entry);
    this.current.detach.set(entry, this.attach(this.current.producer, entry));
    // Removes it from whichever producer holds it then (a renewal may have moved it).
    return () => {
      this.listeners.delete(entry);
      this.current.detach.get(entry)?.();
      this.current.detach.delete(entry);
    };
  }) as Producer['on'];

  send(record: ProducerRecord): Promise<RecordMetadata[]> {
    return this.through((producer) => producer.send(record));
  }

  sendBatch(batch: ProducerBatch): Promise<RecordMetadata[]> {
    return this.through((producer) => producer.sendBatch(batch));
  }

  transaction(): Promise<Transaction> {
    return Promise.reject(
      new Error('RenewingProducer is idempotent, not transactional: create a transactional producer with kafka.producer({ transactionalId })'),
    );
  }

  logger(): Logger {
    return this.current.producer.logger();
  }

  private async through(operation: (producer: Producer) => Promise<RecordMetadata[]>): Promise<RecordMetadata[]> {
    if (this.stale) await this.renew();
    const generation = this.current;
    generation.inFlight += 1;
    try {
      return await operation(generation.producer);
    } catch (err) {
      if (generation === this.current) this.stale = true;
      throw err;
    } finally {
      generation.inFlight -= 1;
      if (generation !== this.current && generation.inFlight === 0) void generation.producer.disconnect().catch(() => undefined);
    }
  }

  /** Connects a new producer and makes it the current one; the old one retires once idle. */
  private renew(): Promise<void> {
    this.renewal ??= (async () => {
      const next = this.generation(this.create());
      try {
        await next.producer.connect();
      } catch (err) {
        for (const remove of next.detach.values()) remove();
        await next.producer.disconnect().catch(() => undefined);
        throw err;
      }
      const old = this.current;
      for (const remove of old.detach.values()) remove();
      this.current = next;
      this.stale = false;
      this.renewed += 1;
      if (old.inFlight === 0) void old.producer.disconnect().catch(() => undefined);
    })().finally(() => {
      this.renewal = undefined;
    });
    return this.renewal;
  }

  private generation(producer: Producer): Generation {
    const detach = new Map<ListenerEntry, () => void>();
    for (const entry of this.listeners) detach.set(entry, this.attach(producer, entry));
    return { producer, inFlight: 0, detach };
  }

  private attach(producer: Producer, { event, listener }: ListenerEntry): () => void {
    return (producer.on as (e: ProducerEvent, l: Listener) => () => void)(event, listener);
  }
}
