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
import { ClientOp, Role, ServerOp } from '../protocol/codes';
import { startServer } from '../tools/server-process';
import type { LatencyRecorder } from './latency';
import { giftStorm } from './gift-storm';
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
    const storm = giftStorm(store, room, p.seconds);
    const ramp = new Progress(`${store}: connecting fans`, p.fans);
    const fans = await openMany(p.fans, 16, async (i) => {
      const user = `fan${i}`;
      const mint = await fetch(`${server.http}/debug/mint?user=${user}&coins=100000000&op=mint-${randomUUID()}`, { method: 'POST' });
      if (!((await mint.json()) as { ok: boolean }).ok) throw new Error('mint failed');
      const c = await LoadConnection.open(server.url, (f) => {
        if (f[0] === ServerOp.ROOM_GIFT && f[4] === user) storm.broadcastSeen(i, nowMs());
      });
      await c.hello(server.token(user));
      await c.request(ClientOp.JOIN, room, Role.VIEWER);
      return c;
    }, (n) => ramp.update(n));
    ramp.done();
    const { committed, refused, elapsedSec: elapsed, latency } = await storm.run(fans);
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
