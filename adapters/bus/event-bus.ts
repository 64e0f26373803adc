/**
 * EventBus: the log that carries a cluster's commands and events between nodes. Kafka in production
 * (kafka-bus.ts), an in-process log for one process (in-process-bus.ts); both pass event-bus.conformance.ts.
 *
 * Two ways to consume:
 * - shared (a consumer group): the bus divides each topic's partitions among the group's members and moves
 *   them when members come and go. A batch's offsets are committed only after `onBatch` resolved, so a
 *   member that dies mid-batch leaves it to be delivered again to the next owner.
 * - all: this member reads every partition from the moment it subscribed (nothing is committed); a batch
 *   whose `onBatch` rejects is offered again.
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
  /** Offsets up to the batch's last record are committed once this resolves; a rejection redelivers. */
  onBatch(batch: ConsumedBatch): Promise<void>;
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
  consumeAll(topics: readonly string[], onBatch: (batch: ConsumedBatch) => Promise<void> | void): Promise<BusSubscription>;
  close(): Promise<void>;
}

export class BusError extends Error {
  constructor(readonly code: 'HB_BUS_UNREACHABLE' | 'HB_BUS_TOPIC_MISMATCH', message: string) {
    super(message);
  }
}
