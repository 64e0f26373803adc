import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import type { DirectMessage } from '../../sdk/client';

t.test('a DM to an offline user arrives on reconnect, in order, exactly once', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const alice = server.client('alice');
  await alice.connect();
  const replies = [];
  for (const text of ['one', 'two', 'three']) replies.push(await alice.dm('bob', text));
  t.same(replies.map((r) => [r.id, r.online]), [[1, false], [2, false], [3, false]]);

  const bob = server.client('bob');
  const got: DirectMessage[] = [];
  bob.on('dm', (m) => got.push(m));
  await bob.connect();
  await waitFor('3 DMs', () => got.length === 3);
  t.same(got.map((m) => [m.id, m.from, m.text]), [[1, 'alice', 'one'], [2, 'alice', 'two'], [3, 'alice', 'three']]);
  // The SDK acks automatically; wait for the ack to land, then come back on a fresh client.
  await new Promise((r) => setTimeout(r, 200));
  bob.close();

  const bobAgain = server.client('bob');
  const again: DirectMessage[] = [];
  bobAgain.on('dm', (m) => again.push(m));
  await bobAgain.connect();
  const live = await alice.dm('bob', 'four');
  t.equal(live.online, true);
  await waitFor('live DM', () => again.length === 1);
  await new Promise((r) => setTimeout(r, 200));
  t.same(again.map((m) => [m.id, m.text]), [[4, 'four']], 'acked messages are not delivered again');
});

t.test('without an ack, messages come again after a reconnect (at-least-once until acked)', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const alice = server.client('alice');
  await alice.connect();
  await alice.dm('carol', 'hello');
  const first = server.client('carol', { autoAckInbox: false });
  const got: DirectMessage[] = [];
  first.on('dm', (m) => got.push(m));
  await first.connect();
  await waitFor('first delivery', () => got.length === 1);
  first.close();
  const second = server.client('carol', { autoAckInbox: false });
  const again: DirectMessage[] = [];
  second.on('dm', (m) => again.push(m));
  await second.connect();
  await waitFor('redelivery', () => again.length === 1);
  t.same(again.map((m) => m.text), ['hello']);
  t.same(await second.ackInbox(1), { acked: 1 });
});
