/**
 * Many nodes, one app (issue #5), on the real Kafka, Redis and FerretDB from deploy/local:
 * - three nodes, clients spread over them: chat and gifts in shared rooms reach every viewer on every node
 *   in one per-room order, with no gap and no duplicate;
 * - presence across nodes; per-user chat limits that hold across nodes; a node that fails to reach Kafka
 *   refuses to start.
 */
import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { HaloClient, type ChatEvent, type GiftEvent } from '../../sdk/client';
import { engineUrl } from '../helpers/services';
import { startCluster, type ClusterEngines } from '../helpers/cluster';

const kafka = engineUrl(t, 'kafka');
const redis = kafka ? engineUrl(t, 'redis') : null;
const mongodb = redis ? engineUrl(t, 'mongodb') : null;

if (kafka && redis && mongodb) {
  const engines: ClusterEngines = { kafka, redis, mongodb };

  t.test('three nodes: every viewer on every node sees one order per room', async (t) => {
    const cluster = await startCluster(engines, 3, 'order');
    t.teardown(() => cluster.stop());
    const [a, b, c] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0], typeof cluster.nodes[0]];
    const rooms = ['stage-1', 'stage-2'];
    // This test is about order, not latency: 50 gifts at once through three nodes onto the FerretDB ledger
    // (a few hundred ms each, serialised per account) can outlast the SDK's default 5 s on a loaded machine.
    const patient = { requestTimeoutMs: 30_000 };
    const hosts = [a.client('host-1', patient), b.client('host-2', patient)];
    const viewers = [a, b, c].flatMap((node, i) => [node.client(`viewer-${i}-a`, patient), node.client(`viewer-${i}-b`, patient)]);
    const fans = [b.client('fan-b', patient), c.client('fan-c', patient)];
    for (const x of [...hosts, ...viewers, ...fans]) await x.connect();
    for (const fan of fans) await cluster.mint((fan.session as { user: string }).user, 10_000);
    await hosts[0]!.join(rooms[0]!, Role.HOST);
    await hosts[1]!.join(rooms[1]!, Role.HOST);
    type Seen = { room: string; seq: number; kind: string; key: string };
    const seen = new Map<HaloClient, Seen[]>();
    for (const v of viewers) {
      seen.set(v, []);
      v.on('chat', (e: ChatEvent) => seen.get(v)!.push({ room: e.room, seq: e.seq, kind: 'chat', key: e.text }));
      v.on('gift', (e: GiftEvent) => seen.get(v)!.push({ room: e.room, seq: e.seq, kind: 'gift', key: `${e.from}:${e.giftId}:${e.count}` }));
      for (const room of rooms) await v.join(room);
    }
    for (const fan of fans) for (const room of rooms) await fan.join(room);

    // Chat from hosts and gifts from fans on other nodes, all at once.
    const acked: { room: string; seq: number }[] = [];
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 25; i++) {
      for (const [h, host] of hosts.entries()) sends.push(host.chat(rooms[h]!, `m${h}-${i}`).then((r) => void acked.push({ room: rooms[h]!, seq: r.seq })));
      for (const [f, fan] of fans.entries()) {
        const room = rooms[(i + f) % 2]!;
        sends.push(fan.gift(room, 'rose', 1 + (i % 3), HaloClient.newOpId()).then((r) => void acked.push({ room, seq: r.seq })));
      }
    }
    await Promise.all(sends);
    t.equal(acked.length, 100, 'every chat and gift was acknowledged');
    const expected = (room: string) => acked.filter((x) => x.room === room).length;
    for (const v of viewers) {
      await waitFor('every event reached every viewer', () => rooms.every((r) => seen.get(v)!.filter((e) => e.room === r).length >= expected(r)), 30_000);
    }
    const first = seen.get(viewers[0]!)!;
    for (const room of rooms) {
      const order = first.filter((e) => e.room === room);
      const seqs = order.map((e) => e.seq);
      t.same(seqs, [...seqs].sort((x, y) => x - y), `${room}: seqs increase`);
      t.equal(new Set(seqs).size, seqs.length, `${room}: no duplicates`);
      t.same(seqs.sort((x, y) => x - y), acked.filter((x) => x.room === room).map((x) => x.seq).sort((x, y) => x - y), `${room}: exactly the acknowledged events`);
      t.equal(seqs.at(-1)! - seqs[0]! + 1, seqs.length, `${room}: no gap`);
      for (const v of viewers.slice(1)) {
        t.same(seen.get(v)!.filter((e) => e.room === room), order, `${room}: a viewer on another node saw the same events in the same order`);
      }
    }
    // Presence in Redis: where each user is connected.
    const where = (await (await fetch(`${a.http}/debug/presence/viewer-2-a`)).json()) as { nodeId: string; connections: number }[];
    t.same(where.map((w) => [w.nodeId, w.connections]), [['n3', 1]], 'presence knows viewer-2-a is on n3');
  });

  t.test('a per-user chat limit holds across nodes', async (t) => {
    const cluster = await startCluster(engines, 2, 'limit', { HALOBUZZ_USER_CHAT_PER_SECOND: '1', HALOBUZZ_USER_CHAT_BURST: '5' });
    t.teardown(() => cluster.stop());
    const [a, b] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
    const one = a.client('spammer');
    const two = b.client('spammer');
    await one.connect();
    await two.connect();
    await one.join('limits');
    await two.join('limits');
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => (i % 2 ? one : two).chat('limits', `x${i}`)));
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const limited = results.filter((r) => r.status === 'rejected' && (r.reason as { code?: number }).code === 120).length;
    t.ok(ok >= 5 && ok <= 6, `the burst of 5 held across both nodes (${ok} went through; each node's local limit alone would have let all 8 pass)`);
    t.equal(ok + limited, 8, 'the rest were refused with RATE_LIMITED');
  });

  t.test('a node configured for Kafka that cannot reach it refuses to start', async (t) => {
    await t.rejects(startServer({ KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: redis, HALOBUZZ_ROLE: 'realtime' }), /Kafka at 127\.0\.0\.1:1 does not answer/);
  });
}
