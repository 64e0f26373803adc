import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import type { ChatEvent } from '../../sdk/client';

t.test('a client whose connection drops reconnects, resumes, and gets what it missed exactly once', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const host = server.client('host');
  const viewer = server.client('viewer');
  await host.connect();
  await viewer.connect();
  await host.join('room', Role.HOST);
  await viewer.join('room');
  const seen: ChatEvent[] = [];
  viewer.on('chat', (e) => seen.push(e));
  const resumed: unknown[] = [];
  viewer.on('resumed', (r) => resumed.push(r));
  for (let i = 1; i <= 3; i++) await host.chat('room', `before ${i}`);
  await waitFor('3 chats', () => seen.length === 3);

  // Cut the viewer's TCP connection without a close handshake, as a mobile network would.
  const reconnected = new Promise((r) => viewer.once('connected', r));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (viewer as any).ws._socket.destroy();
  for (let i = 1; i <= 4; i++) await host.chat('room', `while away ${i}`);
  await reconnected;
  await waitFor('resume done', () => resumed.length === 1);
  await host.chat('room', 'after');
  await waitFor('8 chats', () => seen.length === 8);
  await new Promise((r) => setTimeout(r, 100));
  t.same(seen.map((e) => e.seq), [2, 3, 4, 5, 6, 7, 8, 9], 'every seq once, in order (seq 1 is the stream start)');
  t.same(seen.slice(3, 7).map((e) => e.text), ['while away 1', 'while away 2', 'while away 3', 'while away 4']);
  t.match(resumed[0], { missed: 4, resync: false });
});

t.test('resume from a seq older than the history is flagged as resync', async (t) => {
  const server = await startServer({ HALOBUZZ_ROOM_HISTORY: '5', HALOBUZZ_CHAT_BURST: '100', HALOBUZZ_USER_CHAT_BURST: '100', HALOBUZZ_CHAT_PER_SECOND: '100', HALOBUZZ_USER_CHAT_PER_SECOND: '100' });
  t.teardown(() => server.stop());
  const host = server.client('host');
  await host.connect();
  await host.join('room', Role.HOST);
  for (let i = 1; i <= 20; i++) await host.chat('room', `m${i}`);
  const late = server.client('late');
  await late.connect();
  const resyncs: unknown[] = [];
  late.on('resync', (r) => resyncs.push(r));
  const { ClientOp } = await import('../../protocol/codes');
  const reply = await late.request(ClientOp.RESUME, 'room', 2, 0);
  t.match(reply, { seq: 21, resync: true });
});
