/**
 * A server with a write delay (HALOBUZZ_WRITE_DELAY_MS) holds what it sends for the delay, and keeps the
 * protocol's promises: one ordered stream per connection (every room event in seq order, by 1), and a
 * RESUME in the middle of traffic replays then goes live with nothing skipped and nothing twice.
 */
import t from 'tap';
import { ClientOp, Role, ServerOp } from '../../protocol/codes';
import { HALOBUZZ_BENCH_ENV } from '../../bench/targets';
import { startServer, waitFor } from '../../tools/server-process';
import { RawSocket } from '../helpers/raw-socket';

const DELAY_MS = 40;

t.test(`with a ${DELAY_MS} ms write delay: events are held, then arrive in order, and a mid-stream RESUME misses nothing`, async (t) => {
  const server = await startServer({ ...HALOBUZZ_BENCH_ENV, HALOBUZZ_WRITE_DELAY_MS: String(DELAY_MS) });
  t.teardown(() => server.stop());
  const room = 'delayed';
  const open = async (user: string) => {
    const s = await RawSocket.open(server.url);
    s.send([ClientOp.HELLO, 1, 1, server.token(user)]);
    await s.next((f) => f[0] === ServerOp.REPLY && f[1] === 1);
    return s;
  };
  const host = await open('wd-host');
  host.send([ClientOp.JOIN, 2, room, Role.HOST]);
  await host.next((f) => f[0] === ServerOp.REPLY && f[1] === 2);
  const viewer = await open('wd-viewer');
  viewer.send([ClientOp.JOIN, 2, room, Role.VIEWER]);
  await viewer.next((f) => f[0] === ServerOp.REPLY && f[1] === 2);

  // One chat alone: its round trip includes the delay.
  const sentAt = Date.now();
  host.send([ClientOp.CHAT, 10, room, 'first']);
  await viewer.next((f) => f[0] === ServerOp.ROOM_CHAT && f[5] === 'first');
  t.ok(Date.now() - sentAt >= DELAY_MS - 5, `the viewer got it after the delay (${Date.now() - sentAt} ms)`);

  // Then a stream of chats; a second viewer resumes from seq 0 in the middle of it.
  const total = 60;
  for (let i = 0; i < total; i++) {
    host.send([ClientOp.CHAT, 100 + i, room, `c${i}`]);
    if (i === 30) {
      const late = await open('wd-late');
      late.send([ClientOp.RESUME, 2, room, 0]);
      (t.context as { late?: RawSocket }).late = late;
    }
    if (i % 10 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  const late = (t.context as { late: RawSocket }).late;
  const chatsOf = (s: RawSocket) => s.frames.filter((f) => f[0] === ServerOp.ROOM_CHAT);
  await waitFor('every chat at both viewers', () => chatsOf(viewer).length >= total + 1 && chatsOf(late).length >= total + 1, 10_000);
  const seqs = (s: RawSocket) => chatsOf(s).map((f) => f[2] as number);
  const consecutive = (xs: number[]) => xs.every((x, i) => i === 0 || x === xs[i - 1]! + 1);
  t.ok(consecutive(seqs(viewer)), 'the live viewer: every seq, in order, by 1');
  t.ok(consecutive(seqs(late)), 'the resumed viewer: replay then live, nothing skipped, nothing twice');
  t.equal(seqs(late)[0], seqs(viewer)[0], 'the resumed viewer starts from the first chat');
  t.equal(seqs(late).at(-1), seqs(viewer).at(-1), 'and ends at the last');
  const replies = host.frames.filter((f) => f[0] === ServerOp.REPLY && (f[1] as number) >= 100);
  await waitFor('every chat acknowledged', () => host.frames.filter((f) => f[0] === ServerOp.REPLY && (f[1] as number) >= 100).length === total, 10_000);
  t.ok(replies.length <= total, 'one reply per chat');
  for (const s of [host, viewer, late]) s.ws.close();
});
