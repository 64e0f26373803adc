/**
 * Gifts: F fans in one live room, each sending gifts in a closed loop (one in flight) for D seconds, on
 * the embedded store and, when MONGODB_URL is set, on MongoDB (FerretDB here). Reports gifts committed
 * per second and gift-to-broadcast latency (send → the ROOM_GIFT broadcast reaching the sender), writes
 * bench/results/gifts-<time>.json and a latency CDF per store.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientOp, Role, ServerOp } from '../core/protocol/codes';
import { startServer } from '../tools/server-process';
import { LatencyRecorder } from './latency';
import { LoadConnection, nowMs, openMany } from './load-client';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface GiftParams {
  fans: number;
  seconds: number;
  workers: number;
}

export const giftDefaults: GiftParams = { fans: 50, seconds: 10, workers: 2 };
export const giftQuick: GiftParams = { fans: 8, seconds: 2, workers: 2 };

async function runOnStore(p: GiftParams, store: string, env: Record<string, string>): Promise<{ result: Record<string, unknown>; latency: LatencyRecorder }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-bench-gifts-'));
  const server = await startServer({
    ...env,
    HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_WORKERS: String(p.workers),
    HALOBUZZ_GIFT_PER_SECOND: '100000', HALOBUZZ_GIFT_BURST: '100000',
    HALOBUZZ_FRAMES_PER_SECOND: '100000', HALOBUZZ_FRAMES_BURST: '100000',
    HALOBUZZ_JOIN_PER_SECOND: '100000', HALOBUZZ_JOIN_BURST: '100000',
  }, dataDir);
  try {
    const room = 'gift-bench';
    const host = await LoadConnection.open(server.url);
    await host.hello(server.token('host'));
    await host.request(ClientOp.JOIN, room, Role.HOST);
    const latency = new LatencyRecorder();
    const waiting: ((ts: number) => void)[] = [];
    const ramp = new Progress(`${store}: connecting fans`, p.fans);
    const fans = await openMany(p.fans, 16, async (i) => {
      const user = `fan${i}`;
      const mint = await fetch(`${server.http}/debug/mint?user=${user}&coins=100000000&op=mint-${randomUUID()}`, { method: 'POST' });
      if (!((await mint.json()) as { ok: boolean }).ok) throw new Error('mint failed');
      const c = await LoadConnection.open(server.url, (f) => {
        if (f[0] === ServerOp.ROOM_GIFT && f[4] === user) waiting[i]?.(nowMs());
      });
      await c.hello(server.token(user));
      await c.request(ClientOp.JOIN, room, Role.VIEWER);
      return c;
    }, (n) => ramp.update(n));
    ramp.done();
    let committed = 0;
    let refused = 0;
    const run = new Progress(`${store}: gifting`, p.seconds);
    const start = Date.now();
    const deadline = start + p.seconds * 1000;
    const ticker = setInterval(() => run.update(Math.min(p.seconds, Math.floor((Date.now() - start) / 1000)), `${committed} committed`), 500);
    await Promise.all(fans.map(async (c, i) => {
      while (Date.now() < deadline) {
        const sent = nowMs();
        const broadcast = new Promise<number>((resolve) => (waiting[i] = resolve));
        try {
          await c.request(ClientOp.GIFT, room, 'rose', 1, randomUUID());
          latency.record((await broadcast) - sent);
          committed++;
        } catch {
          refused++;
        }
      }
    }));
    clearInterval(ticker);
    const elapsed = (Date.now() - start) / 1000;
    run.done(`${committed} committed`);
    for (const c of [host, ...fans]) c.close();
    const totals = await (await fetch(`${server.http}/debug/ledger/totals`)).json() as { held: number; issued: number };
    return {
      latency,
      result: { store, committed, refused, giftsPerSecond: Math.round(committed / elapsed), latencyMs: latency.summary(), conserved: totals.held === totals.issued },
    };
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runGifts(p: GiftParams, mongodbUrl: string | undefined): Promise<unknown> {
  const runs = [await runOnStore(p, 'sqlite', {})];
  if (mongodbUrl) {
    const url = new URL(mongodbUrl);
    url.pathname = `/bench_gifts_${Date.now()}`;
    runs.push(await runOnStore(p, 'mongodb', { MONGODB_URL: url.toString() }));
  } else {
    console.error('MONGODB_URL not set: MongoDB store not measured (deploy/local/services up; eval "$(deploy/local/services env)")');
  }
  const result = { scenario: 'gifts', params: p, runs: runs.map((r) => r.result) };
  const svg = lineChart({
    title: `gift-to-broadcast latency, ${p.fans} fans`, xLabel: 'latency (ms, log)', yLabel: '% of gifts', logX: true,
    series: runs.map((r) => ({ name: String(r.result.store), points: r.latency.cdf(200) })),
  });
  console.log(JSON.stringify(result, null, 2));
  console.log(`results: ${writeResult('gifts', result, svg).join(', ')}`);
  return result;
}
