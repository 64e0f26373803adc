import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import type { ChatEvent } from '../../sdk/client';

t.test('chat reaches every viewer of the room in seq order and no one outside it', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const host = server.client('host');
  const viewers = Array.from({ length: 6 }, (_, i) => server.client(`viewer${i}`));
  const outsiders = [server.client('outsider0'), server.client('outsider1')];
  const got = new Map<string, ChatEvent[]>();
  for (const c of [host, ...viewers, ...outsiders]) {
    await c.connect();
    const user = c.session!.user;
    got.set(user, []);
    c.on('chat', (e) => got.get(user)!.push(e));
  }
  await host.join('live-a', Role.HOST);
  for (const v of viewers) await v.join('live-a');
  for (const o of outsiders) await o.join('live-b');

  const senders = [host, viewers[0]!, viewers[3]!];
  const perSender = 8;
  await Promise.all(senders.map(async (s, si) => {
    for (let i = 0; i < perSender; i++) await s.chat('live-a', `s${si}-m${i}`);
  }));
  const total = senders.length * perSender;
  await waitFor('all chats delivered', () => [host, ...viewers].every((c) => got.get(c.session!.user)!.length === total));

  const reference = got.get('host')!.map((e) => `${e.seq}:${e.text}`);
  // Seq 1 is the stream start (the host joined); chats follow with no gap.
  t.same(got.get('host')!.map((e) => e.seq), Array.from({ length: total }, (_, i) => i + 2), 'seqs are 2..n+1 with no gap');
  for (const v of viewers) t.same(got.get(v.session!.user)!.map((e) => `${e.seq}:${e.text}`), reference, `${v.session!.user} saw the same order`);
  for (let si = 0; si < senders.length; si++) {
    const own = reference.filter((r) => r.includes(`s${si}-`)).map((r) => r.split(':')[1]);
    t.same(own, Array.from({ length: perSender }, (_, i) => `s${si}-m${i}`), `sender ${si}'s messages keep their order`);
  }
  await new Promise((r) => setTimeout(r, 200));
  for (const o of outsiders) t.equal(got.get(o.session!.user)!.length, 0, 'nothing leaks to another room');
});

t.test('viewer counts are pushed to the room', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const a = server.client('a');
  const b = server.client('b');
  await a.connect();
  await b.connect();
  const counts: number[] = [];
  a.on('presence', (p) => counts.push(p.viewers));
  await a.join('room');
  await b.join('room');
  await waitFor('count 2', () => counts.at(-1) === 2);
  await b.leave('room');
  await waitFor('count 1', () => counts.at(-1) === 1);
  t.equal(counts.at(-1), 1);
});
