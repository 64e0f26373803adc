/**
 * A Kafka broker dies mid gift storm (issue #22), on the 3-broker KRaft cluster from deploy/local
 * (`kafka-cluster`: topics replicated three times, min.insync.replicas 2). Two HaloBuzz nodes route a
 * room's gifts through it; one broker is SIGKILLed while fans on both nodes gift; fans retry with the same
 * op id on transient errors. Afterwards: every gift was acknowledged, coins are conserved, the ledger
 * holds exactly the acknowledged gifts, each at the seq its sender was told, and every viewer saw each
 * once, in order: nothing acknowledged was lost, nothing applied twice. The broker is started again.
 */
import t from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { HaloClient, type GiftEvent } from '../../sdk/client';
import { nodeWebSocket } from '../../sdk/node';
import { MongoLedger } from '../../adapters/ledger/ledger-mongo';
import { giftStorm, settledLedgerTotals } from '../helpers/gift-storm';
import { engineUrl } from '../helpers/services';
import { startCluster } from '../helpers/cluster';

const brokers = engineUrl(t, 'kafka-cluster');
const redis = brokers ? engineUrl(t, 'redis') : null;
const mongodb = redis ? engineUrl(t, 'mongodb') : null;

/** The JVM of one broker of the kafka-cluster service, found by its config path (deploy/local/services). */
function brokerPid(node: number): number | null {
  const r = spawnSync('pgrep', ['-f', `kafka-cluster/${node}/server.properties`], { encoding: 'utf8' });
  const pids = r.stdout.trim().split('\n').filter(Boolean).map(Number).filter((p) => {
    try {
      return readFileSync(`/proc/${p}/cmdline`, 'utf8').startsWith('java');
    } catch {
      return false;
    }
  });
  return pids[0] ?? null;
}

if (brokers && redis && mongodb) {
  t.test('SIGKILL one of three Kafka brokers mid gift storm: nothing acknowledged lost, nothing applied twice', async (t) => {
    const victimBroker = 2;
    const pid = brokerPid(victimBroker);
    if (pid === null) return void t.fail(`no running broker ${victimBroker} of kafka-cluster: deploy/local/services up kafka-cluster`);
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    // Whatever happens, the broker comes back for later runs.
    let restarted = false;
    const restart = () => {
      if (restarted || brokerPid(victimBroker) !== null) return;
      restarted = true;
      spawn(cmdline[0]!, cmdline.slice(1), { detached: true, stdio: 'ignore' }).unref();
    };
    t.teardown(restart);

    const cluster = await startCluster({ kafka: brokers, redis, mongodb }, 2, 'brokerloss', { HALOBUZZ_KAFKA_REPLICATION: '3' });
    t.teardown(() => cluster.stop());
    const room = 'broker-storm';
    const make = (user: string, first: typeof cluster.nodes[0]) => new HaloClient({
      url: [first.url, ...cluster.nodes.filter((n) => n !== first).map((n) => n.url)], token: () => first.token(user),
      webSocket: nodeWebSocket, requestTimeoutMs: 20_000, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500,
    });
    const clients: HaloClient[] = [];
    const track = (c: HaloClient) => (clients.push(c), c);
    t.teardown(() => clients.forEach((c) => c.close()));
    const host = track(make('bl-host', cluster.nodes[0]!));
    await host.connect();
    const live = await host.join(room, Role.HOST);
    const viewers = cluster.nodes.map((n, i) => track(make(`bl-viewer-${i}`, n)));
    const seen = new Map<HaloClient, GiftEvent[]>();
    for (const v of viewers) {
      seen.set(v, []);
      v.on('gift', (e) => seen.get(v)!.push(e));
      await v.connect();
      await v.join(room);
    }
    const fans = cluster.nodes.flatMap((n, i) => [track(make(`bl-fan-${i}-a`, n)), track(make(`bl-fan-${i}-b`, n))]);
    const minted = fans.length * 1000;
    for (const [i, f] of fans.entries()) {
      await cluster.mint(`bl-fan-${Math.floor(i / 2)}-${i % 2 ? 'b' : 'a'}`, 1000);
      await f.connect();
      await f.join(room);
    }

    const perFan = 30;
    const storm = giftStorm(fans, room, perFan, 20);
    const acked = storm.acked;
    await waitFor('a third of the storm acknowledged', () => storm.sent() >= (fans.length * perFan) / 3, 60_000);
    process.kill(pid, 'SIGKILL');
    t.pass(`SIGKILLed broker ${victimBroker} after ${storm.sent()} gifts`);
    await storm.done;
    t.equal(acked.size, fans.length * perFan, `every gift was acknowledged (${storm.retries()} retries with the same op ids)`);

    const totals = await settledLedgerTotals(cluster.nodes[0]!.http);
    t.equal(totals.issued, minted, 'issued = minted');
    t.equal(totals.held, minted, 'held = minted: no coin created or lost');
    t.equal(totals.pending, 0, 'nothing half-applied');

    const ledger = await MongoLedger.connect({ url: cluster.env.MONGODB_URL!, leaseMs: 500 });
    const committed = await ledger.giftsForStream(room, live.stream!);
    await ledger.close();
    t.equal(committed.length, acked.size, 'the ledger holds exactly the acknowledged gifts');
    t.same(new Set(committed.map((e) => e.opId)), new Set(acked.keys()), 'and they are the same operations');
    const seqs = [...acked.values()];
    t.equal(new Set(seqs).size, seqs.length, 'no seq told twice');
    for (const [i, v] of viewers.entries()) {
      await waitFor(`viewer ${i} caught up`, () => seen.get(v)!.length >= committed.length, 30_000);
      const mine = seen.get(v)!.map((e) => e.seq);
      t.same(mine, [...mine].sort((a, b) => a - b), `viewer on n${i + 1}: in order`);
      t.same(new Set(mine), new Set(seqs), `viewer on n${i + 1}: every gift exactly once, at the seq its sender was told`);
      t.equal(mine.length, new Set(mine).size, `viewer on n${i + 1}: no duplicate`);
    }
    restart();
    await waitFor('the broker is back', () => brokerPid(victimBroker) !== null, 10_000);
  });
}
