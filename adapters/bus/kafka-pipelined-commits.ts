/**
 * The commits of a pipelined shared Kafka consumer. A handler takes the batches of a partition in log
 * order but finishes them (`done`) later, while kafkajs already fetches the next ones; kafkajs's own
 * commits would then cover batches still working. So this commits instead: a partition's offset moves up
 * to the end of its oldest batch not yet done, every `intervalMs` (one broker round trip for everything
 * ready) and when the member stops. A batch whose `done` fails makes the consumer seek back to it, so it
 * and everything after it come again; nothing of the abandoned run is committed.
 */
import type { Consumer } from 'kafkajs';

interface PartitionRun {
  /** The batches taken so far, each settling after the one before it. */
  tail: Promise<void>;
  /** A batch of this run failed: later ones commit nothing (the partition is fetched again from it). */
  failed: boolean;
}

/** Which run of its partition a batch belongs to (see `begin`). */
export interface BatchTicket {
  readonly epoch: number;
  readonly run: PartitionRun;
}

interface ReadyOffset {
  readonly topic: string;
  readonly partition: number;
  /** The next offset to read: one past the newest record done. */
  readonly offset: number;
}

export class PipelinedCommits {
  private consumer: Consumer | null = null;
  private readonly runs = new Map<string, PartitionRun>();
  private readonly ready = new Map<string, ReadyOffset>();
  private readonly inFlight = new Set<Promise<void>>();
  /** Bumped by `reset`: batches tracked before it commit nothing. */
  private epoch = 0;
  private timer: ReturnType<typeof setInterval> | null = null;
  private committing: Promise<void> = Promise.resolve();

  constructor(private readonly warn: (what: string, fields: Record<string, unknown>) => void, private readonly intervalMs = 250) {}

  /** The consumer commits and seeks go to (a replacement consumer calls this again). */
  use(consumer: Consumer): void {
    this.consumer = consumer;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.commit(), this.intervalMs);
    this.timer.unref();
  }

  /** A new assignment (or a crash): what is in flight now commits nothing. */
  reset(): void {
    this.epoch++;
    this.runs.clear();
    this.ready.clear();
  }

  /**
   * Call when a batch arrives, before its handler runs. The batch belongs to the partition's run of that
   * moment: a `reset`, or a failed earlier batch, while its handler holds it makes it commit nothing.
   */
  begin(topic: string, partition: number): BatchTicket {
    const key = `${topic}/${partition}`;
    let run = this.runs.get(key);
    if (!run) this.runs.set(key, (run = { tail: Promise.resolve(), failed: false }));
    return { epoch: this.epoch, run };
  }

  /**
   * A batch of records `first`…`last` was taken; it may be committed once `done` and every earlier batch of
   * its run resolved.
   */
  track(ticket: BatchTicket, topic: string, partition: number, first: number, last: number, done: Promise<void>): void {
    const key = `${topic}/${partition}`;
    const epoch = ticket.epoch;
    const current = ticket.run;
    // A rebalance, or a failure of an earlier batch (the partition is fetched again from it), while the
    // handler held this one back: it belongs to a run that commits no more.
    if (epoch !== this.epoch || current.failed) return;
    const settled = current.tail.then(() => done).then(() => {
      if (this.epoch === epoch && !current.failed) this.ready.set(key, { topic, partition, offset: last + 1 });
    }, (err: unknown) => {
      if (this.epoch !== epoch || current.failed) return;
      current.failed = true;
      // Batches taken after this one built on it: fetch the partition again from here, in a new run.
      if (this.runs.get(key) === current) this.runs.delete(key);
      this.warn('a batch failed after it was taken; fetching its partition again from it', { topic, partition, offset: first, err: String(err) });
      try {
        this.consumer?.seek({ topic, partition, offset: String(first) });
      } catch (seekErr) {
        // Not running any more (stopping, or replaced): the next owner starts at the last commit anyway.
        this.warn('seeking back to a failed batch failed', { topic, partition, err: String(seekErr) });
      }
    });
    current.tail = settled;
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
  }

  /** Waits up to `ms` for the batches in flight, commits what is done, and stops committing. */
  async settle(ms: number): Promise<void> {
    let timeout: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([Promise.all(this.inFlight), new Promise((r) => (timeout = setTimeout(r, ms)))]);
    clearTimeout(timeout);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.commit();
  }

  /** Commits every partition's ready offset (one request); one commit at a time. */
  commit(): Promise<void> {
    this.committing = this.committing.then(async () => {
      if (this.ready.size === 0 || !this.consumer) return;
      const offsets = [...this.ready.values()];
      const epoch = this.epoch;
      this.ready.clear();
      try {
        await this.consumer.commitOffsets(offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })));
      } catch (err) {
        // A rebalance in between (the generation moved on) or a broker away: what was not committed is
        // replayed by whoever reads the partition next, and positions make that harmless. Retried with the
        // next tick's offsets if nothing newer arrived meanwhile.
        if (this.epoch === epoch) for (const o of offsets) if (!this.ready.has(`${o.topic}/${o.partition}`)) this.ready.set(`${o.topic}/${o.partition}`, o);
        this.warn('committing consumed offsets failed', { err: String(err), partitions: offsets.length });
      }
    });
    return this.committing;
  }
}
