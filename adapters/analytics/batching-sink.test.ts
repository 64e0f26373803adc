import t from 'tap';
import { BatchingSink, type BatchingOptions } from './batching-sink';
import type { AnalyticsEvent } from './analytics-sink';
import { EventOutbox } from './event-outbox';

/** A sink whose delivery is a function the test controls. */
class TestSink extends BatchingSink {
  constructor(private readonly fn: (batch: readonly AnalyticsEvent[]) => Promise<void>, opts: BatchingOptions, outbox = EventOutbox.open(':memory:', opts.maxQueue)) {
    super(outbox, opts);
  }
  protected deliver(batch: readonly AnalyticsEvent[]): Promise<void> {
    return this.fn(batch);
  }
}

const ev = (i: number): AnalyticsEvent => ({ id: `e${i}`, ts: 1_700_000_000_000 + i, node: 'n', type: 'chat', room: 'r' });
const opts = { maxQueue: 100, batchSize: 10, flushIntervalMs: 20, minBackoffMs: 10, maxBackoffMs: 40 };

t.test('batches by size and by time, in order', async (t) => {
  const batches: string[][] = [];
  const sink = new TestSink(async (b) => void batches.push(b.map((e) => e.id)), opts);
  t.teardown(() => sink.close());
  for (let i = 0; i < 23; i++) sink.record(ev(i));
  await sink.flush();
  t.same(batches.flat(), Array.from({ length: 23 }, (_, i) => `e${i}`), 'every event once, in order');
  t.ok(batches.every((b) => b.length <= 10), 'no batch over the size');
  t.same(sink.stats(), { queued: 0, delivered: 23, dropped: 0, failedAttempts: 0 });
});

t.test('a failed delivery is retried with backoff: at least once, nothing lost', async (t) => {
  const seen: string[] = [];
  let failures = 2;
  const sink = new TestSink(async (b) => {
    seen.push(...b.map((e) => e.id));
    // The store may have written the batch before the error reached us: the retry re-sends it.
    if (failures-- > 0) throw new Error('store unavailable');
  }, opts);
  t.teardown(() => sink.close());
  for (let i = 0; i < 5; i++) sink.record(ev(i));
  await sink.flush();
  t.same([...new Set(seen)], ['e0', 'e1', 'e2', 'e3', 'e4'], 'all delivered');
  t.equal(seen.length, 15, 'the first batch was sent three times');
  t.equal(sink.stats().failedAttempts, 2);
  t.equal(sink.stats().delivered, 5);
});

t.test('the queue is bounded: overflow is dropped and counted, never blocking', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const outcomes: string[] = [];
  const sink = new TestSink(() => gate, { ...opts, maxQueue: 10, onOutcome: (o) => void outcomes.push(o) });
  t.teardown(() => sink.close());
  const start = Date.now();
  for (let i = 0; i < 25; i++) sink.record(ev(i));
  t.ok(Date.now() - start < 50, 'record returns at once');
  t.equal(sink.stats().dropped, 15);
  t.equal(sink.stats().queued, 10);
  release();
  await sink.flush();
  t.equal(sink.stats().delivered, 10);
  t.equal(outcomes.filter((o) => o === 'dropped').length, 15);
});

t.test('a restarted sink closes the dead process\'s visits at that process\'s last heartbeat, not at its own start', async (t) => {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'hb-sink-hb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'outbox.sqlite');
  const lastBeat = Date.now() - 5_000;
  const dead = EventOutbox.open(file, 100);
  dead.append([{ id: 'connect:s1', ts: lastBeat - 10_000, node: 'n', type: 'connect', user: 'u', session: 's1' }]);
  dead.heartbeat(lastBeat);
  dead.close();
  const sink = new TestSink(async () => undefined, { ...opts, heartbeatMs: 10 }, EventOutbox.open(file, 100));
  t.teardown(() => sink.close());
  await new Promise((r) => setTimeout(r, 30)); // heartbeat ticks would have run by now, had they started
  const [closing] = sink.recoverInterrupted();
  t.match(closing, { id: 'disconnect:s1', ts: lastBeat, durationMs: 10_000, endedBy: 'crash' }, 'ended at the last heartbeat of the process that died');
});
