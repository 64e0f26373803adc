/**
 * One node routing through the log (HALOBUZZ_ONE_NODE_ROUTING=log): the cluster's path (ClusterNode and
 * ClusterRouter over the in-process bus and registry) must behave exactly like direct routing: chat in
 * order, gifts charged once and broadcast, DMs, resume, and a worker crash re-attached through the log.
 * It is also what docs/design-departures.md measures against direct routing.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { startServer, waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { ShardMap } from '../../actors/sharding';
import type { ChatEvent, DirectMessage, GiftEvent } from '../../sdk/client';

t.test('a node routing through the in-process log behaves like direct routing', async (t) => {
  const server = await startServer({
    HALOBUZZ_ONE_NODE_ROUTING: 'log', HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_WORKERS: '2', HALOBUZZ_SHARDS: '64',
    HALOBUZZ_CHAT_BURST: '100', HALOBUZZ_USER_CHAT_BURST: '100',
  });
  t.teardown(() => server.stop());
  const state = (await (await fetch(`${server.http}/debug/cluster`)).json()) as { node: number; owned: Record<string, number[]> };
  t.equal(state.node, 1, 'the node took a number from the in-memory registry');
  t.ok(Object.values(state.owned).some((parts) => parts.length > 0), 'and owns the partitions of the in-process log');

  const room = 'log-room';
  const host = server.client('log-host');
  const viewer = server.client('log-viewer');
  await host.connect();
  await viewer.connect();
  await host.join(room, Role.HOST);
  await viewer.join(room);
  const chats: ChatEvent[] = [];
  const gifts: GiftEvent[] = [];
  viewer.on('chat', (e) => chats.push(e));
  viewer.on('gift', (e) => gifts.push(e));
  for (let i = 0; i < 20; i++) await host.chat(room, `m${i}`);
  await waitFor('20 chats', () => chats.length === 20);
  t.same(chats.map((c) => c.text), Array.from({ length: 20 }, (_, i) => `m${i}`), 'in order');

  t.equal((await fetch(`${server.http}/debug/mint?user=log-viewer&coins=10&op=mint-${randomUUID()}`, { method: 'POST' })).status, 200);
  const op = `op-${randomUUID()}`;
  t.match(await viewer.gift(room, 'heart', 1, op), { coins: 5, balance: 5, replayed: false });
  t.match(await viewer.gift(room, 'heart', 1, op), { balance: 5, replayed: true }, 'a retry through the log is not charged twice');
  await waitFor('the gift broadcast', () => gifts.length === 1);

  const dms: DirectMessage[] = [];
  host.on('dm', (m) => dms.push(m));
  await viewer.dm('log-host', 'thanks for the stream');
  await waitFor('the DM', () => dms.length === 1);

  const resumed: unknown[] = [];
  viewer.on('resumed', (r) => resumed.push(r));
  const worker = new ShardMap(64, 2).workerOf('room', room);
  t.equal((await fetch(`${server.http}/debug/workers/${worker}/crash`, { method: 'POST' })).status, 202);
  await waitFor('the viewer re-attached through the log and resumed', () => resumed.length >= 1, 15_000);
  const after = await host.chat(room, 'after the crash');
  await waitFor('it arrives', () => chats.some((c) => c.text === 'after the crash'));
  t.equal(chats.at(-1)!.seq, after.seq, 'the sequence continues with no gap');
});

t.test('through the log, a room carries on after the process is killed and started again', async (t) => {
  const env = { HALOBUZZ_ONE_NODE_ROUTING: 'log', HALOBUZZ_WORKERS: '1' };
  let server = await startServer(env);
  const dataDir = server.dataDir;
  t.teardown(async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const room = 'log-restart';
  const before = server.client('restart-host');
  await before.connect();
  await before.join(room, Role.HOST);
  let last = 0;
  for (let i = 0; i < 5; i++) last = (await before.chat(room, `before ${i}`)).seq;
  before.close();
  await server.kill();
  // The new process's in-process log starts afresh; the room's stored position is from the old one.
  server = await startServer(env, dataDir);
  const host = server.client('restart-host', { requestTimeoutMs: 5000 });
  await host.connect();
  await host.join(room, Role.HOST);
  const reply = await host.chat(room, 'after the restart');
  t.ok(reply.seq > last, `the join and the chat were applied, not skipped as replays: seq ${reply.seq} after ${last}`);
});
