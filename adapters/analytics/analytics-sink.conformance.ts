/**
 * The AnalyticsSink contract, run against every sink (ClickHouse, NDJSON files): recording never waits,
 * flush delivers every queued event (the server flushes, within its grace period, before it closes),
 * after close nothing more is taken, the queue bound drops and counts the excess instead of growing,
 * stats tell the truth, and what a process recorded before it died is shipped by the next one. `readBack` returns the ids the sink's storage holds
 * (a re-delivered event may be stored twice: at-least-once; ids are what count).
 */
import type { Test } from 'tap';
import type { AnalyticsEvent, AnalyticsSink } from './analytics-sink';
import type { BatchingOptions } from './batching-sink';
import { EventOutbox } from './event-outbox';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SinkUnderTest {
  /** A sink over the given outbox (a file, so a second sink can take over what a "crashed" one left). */
  open(outbox: EventOutbox, opts: BatchingOptions): Promise<AnalyticsSink>;
  readBack(idPrefix: string): Promise<string[]>;
}

const OPTS: BatchingOptions = { maxQueue: 10_000, batchSize: 100, flushIntervalMs: 20, minBackoffMs: 20, maxBackoffMs: 200 };

export function analyticsSinkConformance(t: Test, name: string, sut: SinkUnderTest): void {
  const event = (prefix: string, i: number, type: AnalyticsEvent['type'] = 'chat'): AnalyticsEvent =>
    ({ id: `${prefix}-${i}`, ts: Date.UTC(2026, 10, 26, 9, 0, i % 60), node: 'n1', type, room: 'room-1', user: `u${i % 5}` });
  const distinct = (ids: string[]) => new Set(ids).size;
  const dir = mkdtempSync(join(tmpdir(), 'hb-outbox-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let files = 0;
  const fresh = (o: BatchingOptions) => EventOutbox.open(join(dir, `outbox-${++files}.sqlite`), o.maxQueue);

  t.test(`${name}: record never waits; flush delivers every event; stats agree`, async (t) => {
    const prefix = `conf-flush-${Date.now()}`;
    const sink = await sut.open(fresh(OPTS), OPTS);
    t.teardown(() => sink.close());
    const started = process.hrtime.bigint();
    for (let i = 0; i < 750; i++) sink.record(event(prefix, i, i % 3 === 0 ? 'gift' : 'chat'));
    t.ok(Number(process.hrtime.bigint() - started) / 1e6 < 200, 'recording 750 events takes no I/O wait');
    await sink.flush();
    const stats = sink.stats();
    t.equal(stats.queued, 0);
    t.equal(stats.dropped, 0);
    t.ok(stats.delivered >= 750, `delivered ${stats.delivered}`);
    t.equal(distinct(await sut.readBack(prefix)), 750, 'every event id is stored');
  });

  t.test(`${name}: flush then close delivers what was queued; a closed sink takes nothing more`, async (t) => {
    const prefix = `conf-close-${Date.now()}`;
    const o = { ...OPTS, flushIntervalMs: 60_000, batchSize: 10_000 };
    const sink = await sut.open(fresh(o), o);
    for (let i = 0; i < 40; i++) sink.record(event(prefix, i));
    t.equal(sink.stats().queued, 40, 'nothing sent before the batch or the timer');
    await sink.flush();
    await sink.close();
    sink.record(event(prefix, 999));
    t.equal(sink.stats().queued, 0, 'recording after close is ignored');
    t.same((await sut.readBack(prefix)).sort(), Array.from({ length: 40 }, (_, i) => `${prefix}-${i}`).sort(), 'exactly the 40 queued before close');
  });

  t.test(`${name}: a full queue drops the newest and counts them; what was queued still arrives`, async (t) => {
    const prefix = `conf-bound-${Date.now()}`;
    const o = { ...OPTS, maxQueue: 50, flushIntervalMs: 60_000, batchSize: 10_000 };
    const sink = await sut.open(fresh(o), o);
    for (let i = 0; i < 80; i++) sink.record(event(prefix, i));
    t.equal(sink.stats().queued, 50, 'the queue stops at its bound');
    t.equal(sink.stats().dropped, 30, 'the excess is counted');
    await sink.flush();
    await sink.close();
    t.equal(distinct(await sut.readBack(prefix)), 50);
  });

  t.test(`${name}: events recorded by a process that died unflushed are shipped by the next one, once`, async (t) => {
    const prefix = `conf-crash-${Date.now()}`;
    const file = join(dir, 'outbox-crash.sqlite');
    const o = { ...OPTS, flushIntervalMs: 60_000, batchSize: 10_000 };
    // The first sink records and is never flushed nor closed: as after SIGKILL, only the file remains.
    const dead = await sut.open(EventOutbox.open(file, o.maxQueue), o);
    for (let i = 0; i < 25; i++) dead.record(event(prefix, i, i % 5 === 0 ? 'gift' : 'chat'));
    t.equal(dead.stats().delivered, 0, 'nothing was shipped before the "crash"');
    const next = await sut.open(EventOutbox.open(file, o.maxQueue), o);
    t.equal(next.stats().queued, 25, 'the next process finds the 25 events in the outbox');
    await next.flush();
    await next.close();
    t.equal(distinct(await sut.readBack(prefix)), 25, 'and ships every one');
  });
}
