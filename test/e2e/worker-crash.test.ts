import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { ShardMap } from '../../actors/sharding';
import type { ChatEvent, DirectMessage } from '../../sdk/client';

t.test('a crashed worker is restarted and its room keeps working from where it was', async (t) => {
  const server = await startServer({ HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_WORKERS: '2', HALOBUZZ_SHARDS: '64' });
  t.teardown(() => server.stop());
  const room = 'crash-room';
  const worker = new ShardMap(64, 2).workerOf('room', room);
  const host = server.client('host');
  const viewer = server.client('viewer');
  await host.connect();
  await viewer.connect();
  await host.join(room, Role.HOST);
  await viewer.join(room);
  const seen: ChatEvent[] = [];
  viewer.on('chat', (e) => seen.push(e));
  const resumed: unknown[] = [];
  viewer.on('resumed', (r) => resumed.push(r));
  for (let i = 1; i <= 3; i++) await host.chat(room, `before ${i}`);
  await waitFor('3 chats', () => seen.length === 3);

  const res = await fetch(`${server.http}/debug/workers/${worker}/crash`, { method: 'POST' });
  t.equal(res.status, 202);
  await waitFor('viewer resumed after the restart', () => resumed.length >= 1, 10_000);
  t.match(resumed[0], { room, seq: 4, resync: false });

  const after = await host.chat(room, 'after restart');
  t.equal(after.seq, 5, 'the sequence continues');
  await waitFor('4 chats', () => seen.length === 4);
  t.same(seen.map((e) => e.seq), [2, 3, 4, 5], 'seq 1 was the stream start');
  t.equal(viewer.connected, true, 'sockets survived the crash');

  const metrics = await (await fetch(`${server.http}/metrics`)).text();
  t.match(metrics, /halobuzz_worker_restarts_total 1/);
  const ready = await fetch(`${server.http}/ready`);
  t.equal(ready.status, 200, 'ready again');
});

t.test('a user whose actor worker crashed still gets new DMs', async (t) => {
  const server = await startServer({ HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_WORKERS: '2', HALOBUZZ_SHARDS: '64' });
  t.teardown(() => server.stop());
  const worker = new ShardMap(64, 2).workerOf('user', 'dana');
  const dana = server.client('dana');
  const erin = server.client('erin');
  await dana.connect();
  await erin.connect();
  const got: DirectMessage[] = [];
  dana.on('dm', (m) => got.push(m));
  await erin.dm('dana', 'before');
  await waitFor('first DM', () => got.length === 1);
  await fetch(`${server.http}/debug/workers/${worker}/crash`, { method: 'POST' });
  await waitFor('restart', () => server.logs.join('').includes('re-attaching'), 10_000);
  let reply;
  for (let i = 0; i < 50 && !reply; i++) {
    reply = await erin.dm('dana', 'after').catch(() => undefined);
  }
  t.match(reply, { online: true }, 'the re-attached user is online');
  await waitFor('second DM', () => got.some((m) => m.text === 'after'));
  t.same(got.map((m) => m.id), [1, 2], 'no duplicate after redelivery');
});
