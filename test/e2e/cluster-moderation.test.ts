/**
 * Room moderation across a three-node cluster (Kafka, Redis, FerretDB): a moderator connected to one node
 * bans a user connected to another; the banned user's JOIN and RESUME are refused on every node, also after
 * the node owning the room is SIGKILLed and the room is rebuilt elsewhere from the shared store; a deleted
 * message leaves the screens of viewers on other nodes and the history a RESUME replays.
 */
import t from 'tap';
import { ClientOp, ErrorCode, Role } from '../../protocol/codes';
import { HaloClient, HaloError, type ChatEvent, type ModEvent } from '../../sdk/client';
import { nodeWebSocket } from '../../sdk/node';
import { engineUrl } from '../helpers/services';
import { startCluster } from '../helpers/cluster';
import { until } from '../helpers/games';
import type { ServerHandle } from '../../tools/server-process';

const kafka = engineUrl(t, 'kafka');
const redis = kafka ? engineUrl(t, 'redis') : null;
const mongodb = redis ? engineUrl(t, 'mongodb') : null;

const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof HaloError ? e.code : String(e)));

if (kafka && redis && mongodb) {
  t.test('a ban holds on every node and survives the room owner dying; deletions reach every node', { timeout: 240_000 }, async (t) => {
    const cluster = await startCluster({ kafka, redis, mongodb }, 3, 'mod');
    t.teardown(() => cluster.stop());
    const room = 'mod-room';
    const clients: HaloClient[] = [];
    t.teardown(() => clients.forEach((c) => c.close()));
    const connect = async (user: string, first: ServerHandle, device?: string) => {
      const c = new HaloClient({
        url: [first.url, ...cluster.nodes.filter((n) => n !== first).map((n) => n.url)], token: () => first.token(user), webSocket: nodeWebSocket,
        requestTimeoutMs: 15_000, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500, ...(device ? { client: { device } } : {}),
      });
      clients.push(c);
      await c.connect();
      return c;
    };
    const [n1, n2, n3] = cluster.nodes as [ServerHandle, ServerHandle, ServerHandle];
    const host = await connect('c-host', n1);
    await host.join(room, Role.HOST);
    const mo = await connect('c-mod', n2);
    await mo.join(room);
    await host.appointModerator(room, 'c-mod');
    const viewer = await connect('c-viewer', n3);
    const chats: ChatEvent[] = [];
    const mods: ModEvent[] = [];
    viewer.on('chat', (e) => chats.push(e));
    viewer.on('mod', (e) => mods.push(e));
    await viewer.join(room);
    const troll = await connect('c-troll', n3, 'install-c-troll-01');
    await troll.join(room);

    const bad = await troll.chat(room, 'spam spam spam');
    await until('the viewer on n3 saw it', () => chats.find((e) => e.seq === bad.seq));
    await mo.deleteMessage(room, bad.seq);
    await until('the viewer on n3 hears of the deletion', () => mods.find((e) => e.action === 'delete' && e.data.message === bad.seq));
    const auditor = await connect('c-auditor', n2);
    const replay: string[] = [];
    auditor.on('chat', (e) => replay.push(e.text));
    auditor.on('mod', (e) => replay.push(e.action));
    await auditor.request(ClientOp.RESUME, room, 0, Role.VIEWER);
    t.notOk(replay.includes('spam spam spam'), 'a RESUME on another node does not replay it');
    t.ok(replay.includes('removed'), 'its tombstone holds the seq');

    t.match(await mo.ban(room, 'c-troll', { devices: true }), { action: 'ban', user: 'c-troll', until: 0, devices: 1 });
    for (const node of cluster.nodes) {
      const again = await connect('c-troll', node);
      t.equal(await code(again.join(room)), ErrorCode.BANNED, `JOIN refused through ${node.url}`);
      t.equal(await code(again.request(ClientOp.RESUME, room, 0, Role.VIEWER)), ErrorCode.BANNED, `RESUME refused through ${node.url}`);
      again.close();
    }
    const alt = await connect('c-troll-alt', n1, 'install-c-troll-01');
    t.equal(await code(alt.join(room)), ErrorCode.BANNED, 'a new account on the banned device is refused');

    const ownerIndex = await cluster.ownerOf(room);
    t.ok(ownerIndex >= 0, `node n${ownerIndex + 1} owns the room`);
    await cluster.nodes[ownerIndex]!.kill();
    const survivor = cluster.nodes.find((_, i) => i !== ownerIndex)!;
    await until('another node owns the room', async () => {
      const now = await cluster.ownerOf(room);
      return now >= 0 && now !== ownerIndex;
    }, 60_000);
    const after = await connect('c-troll', survivor);
    t.equal(await code(after.join(room)), ErrorCode.BANNED, 'the rebuilt room still refuses the banned user');
    const fine = await connect('c-newcomer', survivor);
    t.equal(await code(fine.join(room)), 'ok', 'and admits others');
  });
}
