/**
 * The EventBus inside one process: an in-memory log per topic partition. A consumer group has one owner
 * for everything (its oldest live member); when that member stops, the next one takes every partition
 * from the committed offsets, the way a Kafka group would after a rebalance.
 */
import { BusError, type BusRecord, type BusSubscription, type ConsumedBatch, type EventBus, type SharedHandlers } from './event-bus';

interface Member {
  readonly topics: readonly string[];
  readonly handlers: SharedHandlers;
  stopped: boolean;
}

interface Group {
  readonly members: Member[];
  readonly committed: Map<string, number>;
}

export class InProcessBus implements EventBus {
  /**
   * Offset of every partition's first record: the start time in µs, so the offsets of a restarted process
   * lie above those of the one before. Offsets become positions that rooms and inboxes store (to skip
   * replays); a log that restarted at 0 after a crash had every command skipped as already applied.
   */
  private readonly base = Date.now() * 1000;
  private readonly logs = new Map<string, Uint8Array[][]>();
  private readonly groups = new Map<string, Group>();
  private readonly wakers = new Set<() => void>();

  async ensureTopics(topics: readonly string[], partitions: number): Promise<void> {
    for (const topic of topics) {
      const log = this.logs.get(topic);
      if (!log) this.logs.set(topic, Array.from({ length: partitions }, () => []));
      else if (log.length < partitions) throw new BusError('HB_BUS_TOPIC_MISMATCH', `topic ${topic} has ${log.length} partitions, fewer than ${partitions}`);
    }
  }

  async publish(batches: readonly { topic: string; records: readonly BusRecord[] }[]): Promise<void> {
    for (const { topic, records } of batches) {
      const log = this.log(topic);
      for (const r of records) {
        const partition = log[r.partition];
        if (!partition) throw new BusError('HB_BUS_TOPIC_MISMATCH', `topic ${topic} has no partition ${r.partition}`);
        partition.push(r.value.slice());
      }
    }
    for (const wake of this.wakers) wake();
  }

  async consumeShared(group: string, topics: readonly string[], handlers: SharedHandlers): Promise<BusSubscription> {
    let g = this.groups.get(group);
    if (!g) this.groups.set(group, (g = { members: [], committed: new Map() }));
    const member: Member = { topics, handlers, stopped: false };
    g.members.push(member);
    const owner = () => g!.members.find((m) => !m.stopped) === member;
    let assigned = false;
    // Stopping abandons a batch not yet done (it stays uncommitted, for the next owner).
    let abandon: () => void = () => undefined;
    const abandoned = new Promise<'abandoned'>((resolve) => (abandon = () => resolve('abandoned')));
    return this.loop(async () => {
      if (!owner()) return false;
      if (!assigned) {
        assigned = true;
        handlers.onAssignment(new Map(topics.map((t) => [t, this.log(t).map((_, i) => i)])));
      }
      let progressed = false;
      for (const topic of topics) {
        for (const [partition, records] of this.log(topic).entries()) {
          const key = `${topic}/${partition}`;
          const from = g!.committed.get(key) ?? 0;
          if (from >= records.length || member.stopped) continue;
          const batch: ConsumedBatch = { topic, partition, records: records.slice(from).map((value, i) => ({ offset: this.base + from + i, value })) };
          // One batch at a time: the next is offered once this one is done (a rejection of either redelivers).
          const handling = handlers.onBatch(batch);
          handling.done.catch(() => undefined); // awaited below, after `taken`
          if ((await Promise.race([handling.taken, abandoned])) === 'abandoned') return false;
          if ((await Promise.race([handling.done, abandoned])) === 'abandoned') return false;
          g!.committed.set(key, from + batch.records.length);
          progressed = true;
        }
      }
      return progressed;
    }, () => {
      member.stopped = true;
      g!.members.splice(g!.members.indexOf(member), 1);
    }, abandon);
  }

  async consumeAll(topics: readonly string[], onBatch: (batch: ConsumedBatch) => Promise<void> | void, partitions?: readonly number[]): Promise<BusSubscription> {
    const wanted = (partition: number) => !partitions || partitions.includes(partition);
    const next = new Map<string, number>(topics.flatMap((t) => this.log(t).map((p, i) => [`${t}/${i}`, p.length] as const)));
    return this.loop(async () => {
      let progressed = false;
      for (const topic of topics) {
        for (const [partition, records] of this.log(topic).entries()) {
          if (!wanted(partition)) continue;
          const key = `${topic}/${partition}`;
          const from = next.get(key) ?? 0;
          if (from >= records.length) continue;
          const upTo = records.length;
          await onBatch({ topic, partition, records: records.slice(from, upTo).map((value, i) => ({ offset: this.base + from + i, value })) });
          next.set(key, upTo);
          progressed = true;
        }
      }
      return progressed;
    }, () => undefined);
  }

  async close(): Promise<void> {
    this.wakers.clear();
  }

  private log(topic: string): Uint8Array[][] {
    const log = this.logs.get(topic);
    if (!log) throw new BusError('HB_BUS_TOPIC_MISMATCH', `no topic ${topic}`);
    return log;
  }

  /** Runs `step` whenever something was published (or another member stopped), one step at a time. */
  private async loop(step: () => Promise<boolean>, onStop: () => void, onStopping: () => void = () => undefined): Promise<BusSubscription> {
    let stopped = false;
    let running: Promise<void> = Promise.resolve();
    let again = false;
    let busy = false;
    const wake = () => {
      if (stopped) return;
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      running = (async () => {
        try {
          do {
            again = false;
            while (!stopped && (await step()));
          } while (again && !stopped);
        } catch {
          // A failed batch stays uncommitted and is offered again on the next wake.
          setTimeout(wake, 50);
        } finally {
          busy = false;
        }
      })();
    };
    this.wakers.add(wake);
    setImmediate(wake);
    return {
      stop: async () => {
        stopped = true;
        this.wakers.delete(wake);
        onStopping();
        await running;
        onStop();
        for (const w of this.wakers) w();
      },
    };
  }
}
