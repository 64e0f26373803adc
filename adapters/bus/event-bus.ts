/**
 * EventBus: the log that carries a cluster's commands and events between nodes. Kafka in production
 * (kafka-bus.ts), an in-process log for one process (in-process-bus.ts); both pass event-bus.conformance.ts.
 *
 * Two ways to consume:
 * - shared (a consumer group): the bus divides each topic's partitions among the group's members and moves
 *   them when members come and go. A handler answers each batch with two promises: `taken` (the records
 *   are handed over, in order: the bus may offer the partition's next batch) and `done` (the batch's work
 *   is durable). Offsets are committed only up to the oldest batch not yet done, so a member that dies
 *   mid-batch leaves it, and everything after it, to be delivered again to the next owner.
 * - all: this member reads every partition (or the ones it names) from the moment it subscribed (nothing
 *   is committed); a batch whose `onBatch` rejects is offered again.
 * Either way a consumer carries on after any handler failure or engine error: it never stops on its own.
 * Within a partition records arrive in the order they were published.
 */

export interface BusRecord {
  readonly partition: number;
  readonly value: Uint8Array;
}

export interface ConsumedBatch {
  readonly topic: string;
  readonly partition: number;
  /** In log order; `offset` is the record's position in its partition. */
  readonly records: readonly { readonly offset: number; readonly value: Uint8Array }[];
}

export interface SharedHandlers {
  /**
   * The partitions this member owns now, by topic: called after every rebalance, before any batch of the
   * new assignment is handed over, and with nothing when the member dropped out of the group (until it
   * re-joins).
   */
  onAssignment(assigned: ReadonlyMap<string, readonly number[]>): void;
  /** Takes one batch of a partition; batches of one partition come in log order. */
  onBatch(batch: ConsumedBatch): BatchHandling;
}

/** How a shared consumer's handler takes one batch. */
export interface BatchHandling {
  /**
   * Resolves once the records are handed over in order: the bus may then offer the partition's next
   * batch before this one is done (Kafka does; the in-process bus waits for `done`). The handler bounds how
   * many batches it holds by resolving this later. A rejection redelivers the batch.
   */
  readonly taken: Promise<void>;
  /**
   * Resolves once the batch's work is durable: its offsets may be committed once every earlier batch of
   * the partition is done too. A rejection redelivers the partition from this batch on.
   */
  readonly done: Promise<void>;
}

/** A batch handled in one step: taken once it is done (no batch of the partition overlaps another). */
export function wholeBatch(work: Promise<void>): BatchHandling {
  return { taken: work, done: work };
}

export interface BusSubscription {
  stop(): Promise<void>;
}

export interface EventBus {
  /** Creates missing topics with `partitions` partitions; an existing topic with fewer is an error. */
  ensureTopics(topics: readonly string[], partitions: number): Promise<void>;
  /** Resolves when every record is durable (acknowledged by all in-sync replicas on Kafka). */
  publish(batches: readonly { topic: string; records: readonly BusRecord[] }[]): Promise<void>;
  consumeShared(group: string, topics: readonly string[], handlers: SharedHandlers): Promise<BusSubscription>;
  /** Reads every topic from now on: all partitions, or only `partitions` (the same numbers in each topic). */
  consumeAll(topics: readonly string[], onBatch: (batch: ConsumedBatch) => Promise<void> | void, partitions?: readonly number[]): Promise<BusSubscription>;
  close(): Promise<void>;
}

export class BusError extends Error {
  constructor(readonly code: 'HB_BUS_UNREACHABLE' | 'HB_BUS_TOPIC_MISMATCH', message: string) {
    super(message);
  }
}
