/**
 * One suite, both socket transports (issue #13): uWebSockets.js where its native binding loads on this
 * Node, and ws everywhere. Each runs a real server process and is checked for the same behaviour: which
 * transport runs, hello and auth, chat fan-out and order, resume, DMs through the inbox, gifts, every
 * bad-input answer and close code, a slow consumer, and a graceful shutdown. The one documented
 * difference is what happens to frames the library itself refuses (over 4× the limit, or text that is
 * not UTF-8): uWS drops the connection (1006), ws sends a close frame (1009, 1007).
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startServer, waitFor, type ServerHandle } from '../../tools/server-process';
import { RawSocket } from '../helpers/raw-socket';
import { ClientOp, CloseCode, ErrorCode, Role, ServerOp } from '../../protocol/codes';
import { loadNativeUws } from '../../core/transport/select-transport';
import type { ChatEvent, DirectMessage, GiftEvent } from '../../sdk/client';

const MAX_FRAME = 1024;
const transports: ('uws' | 'ws')[] = 'uws' in loadNativeUws() ? ['uws', 'ws'] : ['ws'];
if (transports.length === 1) t.comment(`uWebSockets.js has no native binary for Node ${process.version}: only the ws transport is checked here`);

const metrics = async (server: ServerHandle) => (await fetch(`${server.http}/metrics`)).text();

for (const transport of transports) {
  t.test(`transport ${transport}`, async (t) => {
    const server = await startServer({
      HALOBUZZ_TRANSPORT: transport, HALOBUZZ_MAX_FRAME_BYTES: String(MAX_FRAME), HALOBUZZ_DEBUG_ENDPOINTS: '1',
      HALOBUZZ_CHAT_PER_SECOND: '10000', HALOBUZZ_CHAT_BURST: '10000', HALOBUZZ_USER_CHAT_PER_SECOND: '10000', HALOBUZZ_USER_CHAT_BURST: '10000',
      HALOBUZZ_FRAMES_PER_SECOND: '100000', HALOBUZZ_FRAMES_BURST: '100000', HALOBUZZ_ABUSE_ERROR_LIMIT: '1000',
    });
    t.teardown(() => server.stop());
    const hello = async (user: string) => {
      const s = await RawSocket.open(server.url);
      s.send([ClientOp.HELLO, 1, 1, server.token(user)]);
      await s.next((f) => f[0] === ServerOp.REPLY && f[1] === 1);
      return s;
    };

    t.test('says which transport runs, on /health, /metrics and in the start-up log', async (t) => {
      t.match(await (await fetch(`${server.http}/health`)).json(), { status: 'ok', transport });
      t.match(await metrics(server), new RegExp(`halobuzz_transport\\{transport="${transport}"\\} 1`));
      t.ok(server.logs.some((l) => l.includes(`"transport":"${transport}"`) && l.includes('"event":"listening"')), 'the listening line names it');
      t.equal((await fetch(`${server.http}/ready`)).status, 200);
      t.equal((await fetch(`${server.http}/nothing`)).status, 404);
    });

    t.test('hello: a good token is welcome, a forged one gets one ERROR and 4001', async (t) => {
      const good = server.client(`hello-${transport}`);
      t.equal((await good.connect()).user, `hello-${transport}`);
      good.close();
      const bad = await RawSocket.open(server.url);
      bad.send([ClientOp.HELLO, 1, 1, 'a.b.c']);
      t.equal((await bad.waitClosed()).code, CloseCode.AUTH_FAILED);
      t.same(bad.frames.map((f) => f.slice(0, 3)), [[ServerOp.ERROR, 1, ErrorCode.NOT_AUTHENTICATED]]);
    });

    t.test('chat fans out to every viewer in seq order; resume fills a gap', async (t) => {
      const room = `fan-${transport}`;
      const host = server.client(`host-${transport}`);
      await host.connect();
      await host.join(room, Role.HOST);
      const viewers = await Promise.all([0, 1, 2].map(async (i) => {
        const v = server.client(`viewer-${transport}-${i}`);
        const got: ChatEvent[] = [];
        v.on('chat', (e) => got.push(e));
        await v.connect();
        await v.join(room);
        return { v, got };
      }));
      for (let i = 0; i < 50; i++) await host.chat(room, `m${i}`);
      await waitFor('every viewer has 50', () => viewers.every((x) => x.got.length === 50), 10_000);
      for (const { got } of viewers) {
        t.same(got.map((e) => e.text), Array.from({ length: 50 }, (_, i) => `m${i}`), 'all, in order');
        t.same(got.map((e) => e.seq), got.map((e) => e.seq).sort((a, b) => a - b));
      }
      const raw = await hello(`resumer-${transport}`);
      raw.send([ClientOp.JOIN, 2, room, Role.VIEWER]);
      const joined = (await raw.next((f) => f[1] === 2))[2] as { seq: number };
      raw.ws.close();
      await raw.waitClosed();
      for (let i = 0; i < 5; i++) await host.chat(room, `missed${i}`);
      const back = await hello(`resumer-${transport}`);
      back.send([ClientOp.RESUME, 2, room, joined.seq]);
      const reply = await back.next((f) => f[0] === ServerOp.REPLY && f[1] === 2);
      t.match(reply[2], { missed: 5, resync: false });
      t.same(back.frames.filter((f) => f[0] === ServerOp.ROOM_CHAT).map((f) => f[5]), ['missed0', 'missed1', 'missed2', 'missed3', 'missed4'], 'replayed before the reply');
    });

    t.test('a DM to an offline user waits in the inbox', async (t) => {
      const sender = server.client(`dm-from-${transport}`);
      await sender.connect();
      t.match(await sender.dm(`dm-to-${transport}`, 'are you there?'), { online: false });
      const receiver = server.client(`dm-to-${transport}`);
      const got: DirectMessage[] = [];
      receiver.on('dm', (m) => got.push(m));
      await receiver.connect();
      await waitFor('the DM arrives after hello', () => got.length === 1);
      t.equal(got[0]!.text, 'are you there?');
    });

    t.test('a gift is charged once and broadcast', async (t) => {
      const room = `gift-${transport}`;
      const host = server.client(`gift-host-${transport}`);
      await host.connect();
      await host.join(room, Role.HOST);
      const fan = server.client(`gift-fan-${transport}`);
      await fan.connect();
      await fan.join(room);
      const seen: GiftEvent[] = [];
      host.on('gift', (g) => seen.push(g));
      t.equal((await fetch(`${server.http}/debug/mint?user=gift-fan-${transport}&coins=20&op=mint-${randomUUID()}`, { method: 'POST' })).status, 200);
      const op = `op-${randomUUID()}`;
      t.match(await fan.gift(room, 'heart', 2, op), { coins: 10, balance: 10, replayed: false });
      t.match(await fan.gift(room, 'heart', 2, op), { coins: 10, balance: 10, replayed: true }, 'a retry is not charged again');
      await waitFor('the host sees it', () => seen.length === 1);
      t.match(seen[0], { from: `gift-fan-${transport}`, giftId: 'heart', count: 2, coins: 10 });
    });

    t.test('bad input: every answer and close code', async (t) => {
      const s = await hello(`junk-${transport}`);
      s.sendBytes(Buffer.from([0xc1]));
      s.sendBytes('{"op":"chat"}', false);
      s.send([200, 9]);
      s.sendBytes(Buffer.from([0x94, ClientOp.CHAT, 10, 0xa1, 0x72, 0xa3, 0xed, 0xa0, 0x80]));
      await waitFor('four errors', () => s.frames.filter((f) => f[0] === ServerOp.ERROR).length === 4);
      t.same(s.frames.filter((f) => f[0] === ServerOp.ERROR).map((f) => f[2]), [ErrorCode.BAD_FRAME, ErrorCode.TEXT_FRAME, ErrorCode.UNKNOWN_OP, ErrorCode.INVALID_UTF8]);
      t.equal(s.closed, null, 'still open');
      const big = await hello(`big-${transport}`);
      big.sendBytes(Buffer.alloc(MAX_FRAME * 2, 0x90));
      t.equal((await big.waitClosed()).code, CloseCode.MESSAGE_TOO_BIG, 'over the limit: 1009');
      const huge = await hello(`huge-${transport}`);
      huge.sendBytes(Buffer.alloc(MAX_FRAME * 8, 0x90));
      t.equal((await huge.waitClosed()).code, transport === 'uws' ? 1006 : CloseCode.MESSAGE_TOO_BIG, 'over 4× the limit: uWS drops, ws closes with 1009');
      const text = await hello(`text-${transport}`);
      text.ws.send(Buffer.from([0xff, 0xfe]), { binary: false });
      t.equal((await text.waitClosed()).code, transport === 'uws' ? 1006 : 1007, 'a text frame that is not UTF-8 fails the connection');
      const noHello = await RawSocket.open(server.url);
      noHello.send([ClientOp.PING, 3]);
      t.same((await noHello.next((f) => f[0] === ServerOp.ERROR)).slice(0, 3), [ServerOp.ERROR, 3, ErrorCode.NOT_AUTHENTICATED]);
      const abuser = await hello(`abuser-${transport}`);
      for (let i = 0; i < 1100; i++) abuser.send([250, i + 2]);
      t.equal((await abuser.waitClosed()).code, CloseCode.POLICY_VIOLATION);
      const m = await metrics(server);
      t.match(m, /halobuzz_oversized_frames_total\{outcome="closed_1009"\} [1-9]/);
      t.match(m, /halobuzz_transport_cuts_total\{reason="text_not_utf8"\} 1/);
      t.match(m, /halobuzz_errors_total\{code="104",name="INVALID_UTF8"\} 1/);
    });

    t.test('a slow consumer is closed with 4009 and the others keep receiving', async (t) => {
      const room = `slow-${transport}`;
      const host = server.client(`slow-host-${transport}`);
      await host.connect();
      await host.join(room, Role.HOST);
      const healthy = server.client(`healthy-${transport}`);
      let healthyCount = 0;
      healthy.on('chat', () => healthyCount++);
      await healthy.connect();
      await healthy.join(room);
      const slow = await hello(`slow-${transport}`);
      slow.send([ClientOp.JOIN, 2, room, 0]);
      await slow.next((f) => f[1] === 2);
      (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
      const text = 'y'.repeat(490);
      let sent = 0;
      const closedOnServer = async () => /halobuzz_closes_total\{code="4009",name="SLOW_CONSUMER"\} 1/.test(await metrics(server));
      for (let round = 0; round < 40 && !(await closedOnServer()); round++) {
        await Promise.all(Array.from({ length: 2000 }, () => host.chat(room, text)));
        sent += 2000;
      }
      t.ok(await closedOnServer(), 'the server closed the slow consumer');
      await waitFor('the healthy viewer got everything', () => healthyCount === sent, 30_000);
      (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
      t.equal((await slow.waitClosed(30_000)).code, CloseCode.SLOW_CONSUMER, 'reading again, it finds the 4009 close frame after its backlog');
    });

    t.test('graceful shutdown closes every client with 4012', async (t) => {
      const s = await hello(`last-${transport}`);
      server.child.kill('SIGTERM');
      t.equal((await s.waitClosed()).code, CloseCode.SERVER_SHUTDOWN);
      t.equal(await server.stop(), 0, 'the process exits cleanly');
    });
  });
}

t.test('auto picks uWS only where its native binding loads, else ws with one warning; uws where it cannot load is a coded exit', async (t) => {
  const native = 'uws' in loadNativeUws();
  const server = await startServer({ HALOBUZZ_TRANSPORT: 'auto' });
  t.teardown(() => server.stop());
  const { transport } = (await (await fetch(`${server.http}/health`)).json()) as { transport: string };
  t.equal(transport, native ? 'uws' : 'ws', `Node ${process.version}: auto runs ${native ? 'uws' : 'ws'}`);
  const warnings = server.logs.filter((l) => l.includes('using the ws transport'));
  t.equal(warnings.length, native ? 0 : 1, native ? 'no warning' : 'one warning, naming the reason');
  if (!native) t.match(warnings[0], /no native binary for Node/);
  if (!native) {
    await t.rejects(startServer({ HALOBUZZ_TRANSPORT: 'uws' }), /HB_TRANSPORT_UNAVAILABLE/, 'HALOBUZZ_TRANSPORT=uws refuses to start without the binding');
  }
});
