/**
 * Interest routing (issue #22), on the real Kafka, Redis and FerretDB from deploy/local: four nodes, 200
 * rooms, each room's viewers on one node only. Every chat reaches its viewers, and every event record a
 * node reads is one it needed: records received by nodes without viewers of the room = 0. Each record
 * is read once in the whole cluster (read by every node, as before interest routing, it would be four
 * times), so each node's event load follows its own viewers. The nodes share a 3-master Redis Cluster
 * (room state, presence, registry, chat limits), not the single Redis the other cluster tests use.
 */
import t from 'tap';
import { waitFor } from '../../tools/server-process';
import type { ChatEvent, HaloClient } from '../../sdk/client';
import { engineUrl } from '../helpers/services';
import { startCluster } from '../helpers/cluster';

const kafka = engineUrl(t, 'kafka');
const redis = kafka ? engineUrl(t, 'redis-cluster') : null;
const mongodb = redis ? engineUrl(t, 'mongodb') : null;

const NODES = 4;
const ROOMS = 200;
const CHATS = 3;

/** The value of halobuzz_cluster_total{what="<what>"} on one node (0 when never counted). */
async function clusterCount(http: string, what: string): Promise<number> {
  const text = await (await fetch(`${http}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`halobuzz_cluster_total{what="${what}"}`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

if (kafka && redis && mongodb) {
  t.test(`${NODES} nodes on a Redis Cluster, ${ROOMS} rooms each watched from one node: no node receives events of a room it has no viewers in`, async (t) => {
    const cluster = await startCluster({ kafka, redis, mongodb }, NODES, 'interest');
    t.teardown(() => cluster.stop());
    // Room i is watched from node i % 4 only: two viewers there, one of whom chats.
    const rooms = Array.from({ length: ROOMS }, (_, i) => ({ room: `stage-${i}`, node: i % NODES }));
    const viewers = new Map<string, HaloClient[]>();
    const seen = new Map<HaloClient, number[]>();
    for (const { room, node } of rooms) {
      const pair = [cluster.nodes[node]!.client(`${room}-a`, { requestTimeoutMs: 30_000 }), cluster.nodes[node]!.client(`${room}-b`, { requestTimeoutMs: 30_000 })];
      viewers.set(room, pair);
      for (const v of pair) {
        seen.set(v, []);
        v.on('chat', (e: ChatEvent) => void seen.get(v)!.push(e.seq));
      }
    }
    await Promise.all([...seen.keys()].map((v) => v.connect()));
    await Promise.all(rooms.map(async ({ room }) => {
      for (const v of viewers.get(room)!) await v.join(room);
    }));
    await Promise.all(rooms.map(async ({ room }) => {
      for (let i = 0; i < CHATS; i++) await viewers.get(room)![0]!.chat(room, `hello ${room} ${i}`);
    }));
    await waitFor('every viewer saw every chat of its room', () => [...seen.values()].every((seqs) => seqs.length >= CHATS), 60_000);
    for (const [v, seqs] of seen) {
      if (new Set(seqs).size !== CHATS) t.fail(`${(v.session as { user: string }).user} saw ${seqs.length} chats: ${seqs}`);
    }
    t.pass(`all ${seen.size} viewers saw their room's ${CHATS} chats once`);

    // Let the last records land, then read what each node published and received.
    await new Promise((r) => setTimeout(r, 500));
    const counts = await Promise.all(cluster.nodes.map(async (n) => ({
      published: await clusterCount(n.http, 'events_published'),
      received: await clusterCount(n.http, 'events_received'),
      notNeeded: await clusterCount(n.http, 'events_not_needed'),
    })));
    t.comment(`per node (published / received / not needed): ${counts.map((c) => `${c.published}/${c.received}/${c.notNeeded}`).join(', ')}`);
    t.same(counts.map((c) => c.notNeeded), [0, 0, 0, 0], 'no node received a record it did not need');
    const published = counts.reduce((sum, c) => sum + c.published, 0);
    const received = counts.reduce((sum, c) => sum + c.received, 0);
    t.equal(received, published, `each record was read once in the cluster (${received} read, ${published} published; read by every node it would be ${NODES * published})`);
    // Each node's viewers made about a quarter of the traffic (joins, chats, presence of 50 rooms), so each read about a quarter.
    for (const [i, c] of counts.entries()) {
      t.ok(c.received >= received / NODES / 2 && c.received <= (received / NODES) * 2, `node ${i + 1} read ${c.received} of ${received} records: its own viewers' share`);
    }
  });
}
