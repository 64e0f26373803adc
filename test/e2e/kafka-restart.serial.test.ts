/**
 * The Kafka broker restarts during traffic (issue #5). Runs alone (`*.serial.test.ts`): it stops the broker
 * every other test uses. Producers and consumers recover; every acknowledged chat reaches the viewer on the
 * other node exactly once, in order.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import type { ChatEvent } from '../../sdk/client';
import { engineUrl } from '../helpers/services';
import { startCluster } from '../helpers/cluster';

const kafka = engineUrl(t, 'kafka');
const redis = kafka ? engineUrl(t, 'redis') : null;
const mongodb = redis ? engineUrl(t, 'mongodb') : null;
const services = join(__dirname, '..', '..', '..', 'deploy', 'local', 'services');
/** Runs the engines script; a failure's message carries what the script printed. */
const engine = (action: 'up' | 'down') => execFileSync(services, [action, 'kafka'], { stdio: 'pipe', encoding: 'utf8', timeout: 240_000 });

if (kafka && redis && mongodb) {
  t.test('a Kafka broker restart during traffic loses nothing acknowledged', async (t) => {
    const cluster = await startCluster({ kafka, redis, mongodb }, 2, 'restart');
    t.teardown(() => cluster.stop());
    const [a, b] = cluster.nodes as [typeof cluster.nodes[0], typeof cluster.nodes[0]];
    const host = a.client('restart-host', { requestTimeoutMs: 120_000 });
    const viewer = b.client('restart-viewer', { requestTimeoutMs: 120_000 });
    await host.connect();
    await viewer.connect();
    const room = 'through-restart';
    await host.join(room, Role.HOST);
    await viewer.join(room);
    const seen: ChatEvent[] = [];
    viewer.on('chat', (e) => seen.push(e));

    const acked: number[] = [];
    let stop = false;
    const traffic = (async () => {
      for (let i = 0; !stop || i < 40; i++) {
        const r = await host.chat(room, `c${i}`);
        acked.push(r.seq);
        if (i >= 39 && stop) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await waitFor('traffic flowing', () => acked.length >= 10, 30_000);
    const restarting = Date.now();
    engine('down');
    t.pass(`broker stopped after ${acked.length} chats`);
    await new Promise((r) => setTimeout(r, 2000));
    engine('up');
    t.pass(`broker back after ${Date.now() - restarting} ms`);
    const before = acked.length;
    await waitFor('traffic flows again', () => acked.length >= before + 10, 120_000);
    stop = true;
    await traffic;
    await waitFor('the viewer has every acknowledged chat', () => seen.length >= acked.length, 60_000).catch(() => undefined);
    // Anything the viewer missed while its node re-joined the log it fetches with a resume.
    const seqs = seen.map((e) => e.seq);
    t.same(seqs, [...seqs].sort((x, y) => x - y), 'in order');
    t.equal(new Set(seqs).size, seqs.length, 'no duplicates');
    if (!t.ok(acked.every((s) => seqs.includes(s)), `every acknowledged chat arrived (${acked.length} acked, ${seqs.length} seen)`)) {
      // What the nodes said about the log, for the post-mortem.
      for (const [i, n] of cluster.nodes.entries()) {
        const said = n.logs.join('').split('\n').filter((l) => /"level":(40|50|60)/.test(l) && !/ECONNREFUSED/.test(l));
        t.comment(`node ${i + 1}, last warnings:\n${said.slice(-15).map((l) => l.slice(0, 400)).join('\n')}`);
      }
    }
  });

  t.test('three nodes start right after the broker starts, while its group coordinator is still loading', async (t) => {
    engine('down');
    engine('up');
    // No wait: the first joins race the coordinator's loading of its offsets partitions.
    const cluster = await startCluster({ kafka, redis, mongodb }, 3, 'coldstart');
    t.teardown(() => cluster.stop());
    t.equal(cluster.nodes.length, 3, 'every node listens');
    const host = cluster.nodes[0]!.client('cold-host');
    const viewer = cluster.nodes[2]!.client('cold-viewer');
    await host.connect();
    await viewer.connect();
    await host.join('cold-room', Role.HOST);
    await viewer.join('cold-room');
    const got = new Promise<ChatEvent>((resolve) => viewer.on('chat', resolve));
    await host.chat('cold-room', 'first words');
    t.equal((await got).text, 'first words', 'a chat crosses nodes');
  });
}

