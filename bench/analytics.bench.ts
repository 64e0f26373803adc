/**
 * Analytics: (a) events/s the ClickHouse sink sustains through its durable outbox (a real SQLite file, as
 * the server runs it), the CPU it spends per event and the outbox's disk bytes per waiting event, recording
 * from one process; (b) what analytics costs the socket core: the same chat workload against HaloBuzz with
 * analytics off and with ClickHouse on, comparing the server's CPU time per delivered message.
 * Needs CLICKHOUSE_URL (deploy/local/services up clickhouse).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { createClient } from '@clickhouse/client';
import { ClickHouseSink } from '../adapters/analytics/clickhouse-sink';
import { ClientOp, Role } from '../protocol/codes';
import { startServer, type ServerHandle } from '../tools/server-process';
import { HALOBUZZ_BENCH_ENV } from './targets';
import { LoadConnection, openMany } from './load-client';
import { Progress } from './progress';
import { EventOutbox } from '../adapters/analytics/event-outbox';
import { writeResult } from './results';

export interface AnalyticsParams { events: number; viewers: number; messages: number }
export const analyticsDefaults: AnalyticsParams = { events: 200_000, viewers: 200, messages: 5000 };
export const analyticsQuick: AnalyticsParams = { events: 5000, viewers: 20, messages: 200 };

/** Bytes of an SQLite file with its WAL (what the outbox holds on disk). */
function fileBytes(file: string): number {
  let n = 0;
  for (const f of [file, `${file}-wal`]) try { n += statSync(f).size; } catch { /* absent */ }
  return n;
}

async function sinkThroughput(url: string, database: string, events: number): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'hb-bench-outbox-'));
  const file = join(dir, 'outbox.sqlite');
  const event = (i: number) => ({ id: randomUUID(), ts: Date.now(), node: 'bench', type: 'chat' as const, room: `room${i % 100}`, user: `u${i % 5000}`, stream: `room${i % 100}.1764115200000` });
  try {
    // Disk per waiting event: record with no shipping (ClickHouse "away"), then measure the file.
    const sizing = EventOutbox.open(join(dir, 'sizing.sqlite'), events + 1);
    for (let i = 0; i < Math.min(events, 50_000); i += 100) sizing.append(Array.from({ length: 100 }, (_, k) => event(i + k)));
    const bytesPerWaitingEvent = Math.round(fileBytes(join(dir, 'sizing.sqlite')) / Math.min(events, 50_000));
    sizing.close();

    const sink = await ClickHouseSink.connect(url, EventOutbox.open(file, events + 1), { maxQueue: events + 1, batchSize: 5000, flushIntervalMs: 100, minBackoffMs: 100, maxBackoffMs: 1000 }, database);
    const progress = new Progress('analytics: sink', events);
    const cpu0 = process.cpuUsage();
    const t0 = Date.now();
    // Recorded as the socket core does: a few events per actor turn, one outbox transaction each.
    for (let i = 0; i < events; i += 4) {
      sink.recordAll([event(i), event(i + 1), event(i + 2), event(i + 3)]);
      if (i % 10_000 === 0) {
        progress.update(i);
        await new Promise((r) => setImmediate(r));
      }
    }
    const recordMs = Date.now() - t0;
    await sink.flush();
    const seconds = (Date.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    progress.done();
    await sink.close();
    return {
      eventsPerSecond: Math.round(events / seconds), recordNsPerEvent: Math.round((recordMs * 1e6) / events),
      cpuMicrosPerEvent: Math.round(((cpu.user + cpu.system) / events) * 100) / 100, bytesPerWaitingEvent,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function chatWorkload(server: ServerHandle, p: AnalyticsParams): Promise<Record<string, number>> {
  const ramp = new Progress('analytics: viewers', p.viewers);
  let received = 0;
  const viewers = await openMany(p.viewers, 32, async (i) => {
    const c = await LoadConnection.open(server.url, () => void received++);
    await c.hello(server.token(`v${i}`));
    await c.request(ClientOp.JOIN, 'bench', Role.VIEWER);
    return c;
  }, (n) => ramp.update(n));
  ramp.done();
  const sender = await LoadConnection.open(server.url);
  await sender.hello(server.token('sender'));
  await sender.request(ClientOp.JOIN, 'bench', Role.HOST);
  const cpu0 = server.cpuSeconds();
  const expected = p.messages * p.viewers;
  received = 0;
  for (let i = 0; i < p.messages; i++) {
    sender.fire(ClientOp.CHAT, 'bench', `message ${i}`);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r));
  }
  const start = Date.now();
  while (received < expected && Date.now() - start < 30_000) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 1500));
  const cpu = server.cpuSeconds() - cpu0;
  for (const c of [...viewers, sender]) c.close();
  return { serverCpuSeconds: Math.round(cpu * 1000) / 1000, delivered: received, cpuMicrosPerDelivered: Math.round((cpu * 1e6) / Math.max(1, received) * 100) / 100 };
}

export async function runAnalytics(p: AnalyticsParams, url: string | undefined): Promise<unknown> {
  if (!url) throw new Error('CLICKHOUSE_URL is not set: deploy/local/services up clickhouse && eval "$(deploy/local/services env)"');
  const database = `bench_analytics_${Date.now()}`;
  const admin = createClient({ url });
  try {
    const sink = await sinkThroughput(url, database, p.events);
    const off = await startServer({ ...HALOBUZZ_BENCH_ENV, HALOBUZZ_ANALYTICS: 'off' });
    const withoutAnalytics = await chatWorkload(off, p).finally(() => off.stop());
    const on = await startServer({ ...HALOBUZZ_BENCH_ENV, CLICKHOUSE_URL: url, HALOBUZZ_CLICKHOUSE_DATABASE: database });
    const withClickHouse = await chatWorkload(on, p).finally(() => on.stop());
    const result = {
      scenario: 'analytics', params: p, sink, withoutAnalytics, withClickHouse,
      serverCpuOverhead: Math.round((withClickHouse.serverCpuSeconds / Math.max(0.001, withoutAnalytics.serverCpuSeconds) - 1) * 1000) / 10,
    };
    console.log(JSON.stringify(result, null, 2));
    console.log(`results: ${writeResult('analytics', result).join(', ')}`);
    return result;
  } finally {
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin.close();
  }
}
