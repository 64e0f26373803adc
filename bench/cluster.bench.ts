/**
 * Cluster: one live room whose viewers and fans are spread over N nodes (1, 2, 3) joined over Kafka and
 * Redis, against the embedded single node. Fans gift in a closed loop (one in flight each); every gift
 * travels fan's node → room-commands → the owner node → room-events → every node → its viewers.
 * Reports gifts/s, deliveries/s (ROOM_GIFT frames received by all viewers) and gift → broadcast latency
 * seen by the sender (which crosses nodes whenever the sender is not on the owner). The nodes share one
 * SQLite ledger file (they run on one machine), so the money path costs the same in every run and the
 * numbers show what the cluster path adds. Writes bench/results/cluster-<time>.json and a latency CDF.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientOp, Role, ServerOp } from '../protocol/codes';
import { startServer, type ServerHandle } from '../tools/server-process';
import type { LatencyRecorder } from './latency';
import { giftStorm } from './gift-storm';
import { LoadConnection, nowMs, openMany } from './load-client';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface ClusterParams {
  fans: number;
  viewers: number;
  seconds: number;
}

export const clusterDefaults: ClusterParams = { fans: 24, viewers: 300, seconds: 10 };
export const clusterQuick: ClusterParams = { fans: 6, viewers: 30, seconds: 2 };

const OPEN = {
  HALOBUZZ_WORKERS: '1', HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_ROLE: 'realtime', HALOBUZZ_ANALYTICS: 'off',
  HALOBUZZ_GIFT_PER_SECOND: '100000', HALOBUZZ_GIFT_BURST: '100000', HALOBUZZ_FRAMES_PER_SECOND: '100000', HALOBUZZ_FRAMES_BURST: '100000',
  HALOBUZZ_JOIN_PER_SECOND: '100000', HALOBUZZ_JOIN_BURST: '100000',
};

async function runWith(p: ClusterParams, label: string, nodes: number, cluster: Record<string, string> | null): Promise<{ result: Record<string, unknown>; latency: LatencyRecorder }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-bench-cluster-'));
  const servers: ServerHandle[] = [];
  try {
    for (let i = 0; i < nodes; i++) servers.push(await startServer({ ...OPEN, ...(cluster ?? {}), HALOBUZZ_NODE_ID: `b${i + 1}` }, dataDir));
    const on = (i: number) => servers[i % servers.length]!;
    const room = 'cluster-bench';
    const host = await LoadConnection.open(on(0).url);
    await host.hello(on(0).token('host'));
    await host.request(ClientOp.JOIN, room, Role.HOST);
    let deliveries = 0;
    const ramp = new Progress(`${label}: viewers`, p.viewers);
    const viewers = await openMany<LoadConnection>(p.viewers, 32, async (i) => {
      const c = await LoadConnection.open(on(i).url, (f) => {
        if (f[0] === ServerOp.ROOM_GIFT) deliveries++;
      });
      await c.hello(on(i).token(`viewer${i}`));
      await c.request(ClientOp.JOIN, room, Role.VIEWER);
      return c;
    }, (n) => ramp.update(n));
    ramp.done();
    const storm = giftStorm(label, room, p.seconds);
    const fans = await openMany<LoadConnection>(p.fans, 16, async (i) => {
      const user = `fan${i}`;
      const mint = await fetch(`${on(i).http}/debug/mint?user=${user}&coins=100000000&op=mint-${randomUUID()}`, { method: 'POST' });
      if (!((await mint.json()) as { ok: boolean }).ok) throw new Error('mint failed');
      const c = await LoadConnection.open(on(i).url, (f) => {
        if (f[0] === ServerOp.ROOM_GIFT && f[4] === user) storm.broadcastSeen(i, nowMs());
      });
      await c.hello(on(i).token(user));
      await c.request(ClientOp.JOIN, room, Role.VIEWER);
      return c;
    }, () => undefined);
    deliveries = 0;
    const { committed, refused, elapsedSec: elapsed, latency } = await storm.run(fans);
    // Let the last broadcasts land before counting deliveries.
    await new Promise((r) => setTimeout(r, 500));
    for (const c of [host, ...viewers, ...fans]) c.close();
    return {
      latency,
      result: {
        setup: label, nodes, committed, refused, giftsPerSecond: Math.round(committed / elapsed),
        deliveriesPerSecond: Math.round(deliveries / elapsed), latencyMs: latency.summary(),
      },
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runCluster(p: ClusterParams, env: NodeJS.ProcessEnv): Promise<unknown> {
  const runs = [await runWith(p, 'single node (embedded)', 1, null)];
  if (env.KAFKA_BROKERS && env.REDIS_URL) {
    for (const n of [1, 2, 3]) {
      const prefix = `bench${Date.now().toString(36)}n${n}`;
      runs.push(await runWith(p, `cluster of ${n}`, n, {
        KAFKA_BROKERS: env.KAFKA_BROKERS, REDIS_URL: env.REDIS_URL, HALOBUZZ_KAFKA_TOPIC_PREFIX: prefix, HALOBUZZ_KAFKA_PARTITIONS: '6',
        // Every process saturates the same two cores here: a node's event loop may stall past the 1.5 s
        // default session, and a rebalance mid-run would measure the failover, not the path.
        HALOBUZZ_KAFKA_SESSION_TIMEOUT_MS: '6000', HALOBUZZ_NODE_TTL_MS: '6000',
      }));
    }
  } else {
    console.error('KAFKA_BROKERS / REDIS_URL not set: cluster runs skipped (deploy/local/services up; eval "$(deploy/local/services env)")');
  }
  const base = runs[0]!.result;
  const result = {
    scenario: 'cluster', params: p,
    runs: runs.map((r): Record<string, unknown> => ({ ...r.result, giftsVsSingle: Number(((r.result.giftsPerSecond as number) / (base.giftsPerSecond as number)).toFixed(2)) })),
  };
  const svg = lineChart({
    title: `gift → broadcast latency, ${p.fans} fans, ${p.viewers} viewers`, xLabel: 'latency (ms, log)', yLabel: '% of gifts', logX: true,
    series: runs.map((r) => ({ name: String(r.result.setup), points: r.latency.cdf(200) })),
  });
  console.table(result.runs.map((r) => ({ setup: r.setup, 'gifts/s': r.giftsPerSecond, 'deliveries/s': r.deliveriesPerSecond, 'p50 ms': (r.latencyMs as { p50: number }).p50, 'p99 ms': (r.latencyMs as { p99: number }).p99, 'vs single': r.giftsVsSingle })));
  console.log(`results: ${writeResult('cluster', result, svg).join(', ')}`);
  return result;
}
