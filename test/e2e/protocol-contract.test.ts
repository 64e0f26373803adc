/**
 * The protocol as docs/protocol.md states it, checked from outside with raw frames (issue #12): invalid
 * UTF-8 is refused and never forwarded, every failed HELLO answers one ERROR then closes, oversized frames
 * are closed and counted by the documented rule, integers and refs follow the documented rule, and every
 * reply error the server sends (actor refusals included) is counted in /metrics.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startServer, waitFor } from '../../tools/server-process';
import { RawSocket } from '../helpers/raw-socket';
import { ClientOp, CloseCode, ErrorCode, Role, ServerOp } from '../../protocol/codes';

const MAX_FRAME = 1024;

/** [op, ref, room, text] with the text's bytes written raw (str8), so they can be invalid UTF-8. */
function rawChat(ref: number, room: string, textBytes: Buffer): Buffer {
  const r = Buffer.from(room);
  return Buffer.concat([Buffer.from([0x94, ClientOp.CHAT, ref, 0xa0 | r.length]), r, Buffer.from([0xd9, textBytes.length]), textBytes]);
}

t.test('protocol contract', async (t) => {
  const server = await startServer({ HALOBUZZ_MAX_FRAME_BYTES: String(MAX_FRAME), HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_ABUSE_ERROR_LIMIT: '1000', HALOBUZZ_JOIN_BURST: '100' });
  t.teardown(() => server.stop());
  const metrics = async () => (await fetch(`${server.http}/metrics`)).text();
  const transport = async () => ((await (await fetch(`${server.http}/health`)).json()) as { transport: string }).transport;
  const hello = async (user: string) => {
    const s = await RawSocket.open(server.url);
    s.send([ClientOp.HELLO, 1, 1, server.token(user)]);
    await s.next((f) => f[0] === ServerOp.REPLY && f[1] === 1);
    return s;
  };
  const reply = (s: RawSocket, ref: number) => s.next((f) => (f[0] === ServerOp.REPLY || f[0] === ServerOp.ERROR) && f[1] === ref, 5000);

  t.test('text that is not valid UTF-8 is refused with INVALID_UTF8 and never reaches other viewers', async (t) => {
    const sender = await hello('utf8-sender');
    const viewer = await hello('utf8-viewer');
    for (const s of [sender, viewer]) {
      s.send([ClientOp.JOIN, 2, 'utf8-room', Role.VIEWER]);
      await reply(s, 2);
    }
    let ref = 10;
    for (const bad of ['eda080', 'fffefd', 'c0af']) {
      sender.sendBytes(rawChat(++ref, 'utf8-room', Buffer.concat([Buffer.from('x'), Buffer.from(bad, 'hex')])));
      t.same((await reply(sender, ref)).slice(0, 3), [ServerOp.ERROR, ref, ErrorCode.INVALID_UTF8], `chat with ${bad}: INVALID_UTF8, ref kept`);
    }
    const dm = Buffer.concat([Buffer.from([0x94, ClientOp.DM, 20, 0xab]), Buffer.from('utf8-viewer'), Buffer.from([0xa4]), Buffer.from('eda080ff', 'hex')]);
    sender.sendBytes(dm);
    t.same((await reply(sender, 20)).slice(0, 3), [ServerOp.ERROR, 20, ErrorCode.INVALID_UTF8], 'a DM too');
    sender.send([ClientOp.CHAT, 21, 'utf8-room', 'fine 👋']);
    await reply(sender, 21);
    await viewer.next((f) => f[0] === ServerOp.ROOM_CHAT);
    const chats = viewer.frames.filter((f) => f[0] === ServerOp.ROOM_CHAT);
    t.same(chats.map((f) => f[5]), ['fine 👋'], 'the viewer saw only the valid chat');
    t.equal(viewer.frames.filter((f) => f[0] === ServerOp.DM).length, 0, 'and no DM');
  });

  t.test('every failed HELLO answers one ERROR with its ref, then closes with the documented code', async (t) => {
    const cases: [unknown[], number, number][] = [
      [[ClientOp.HELLO, 1, 1], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
      [[ClientOp.HELLO, 1, 1, null], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
      [[ClientOp.HELLO, 1, 1, 7], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
      [[ClientOp.HELLO, 1, 1, ''], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
      [[ClientOp.HELLO, 1, '1', 'tok'], ErrorCode.BAD_ARGUMENTS, CloseCode.UNSUPPORTED_VERSION],
      [[ClientOp.HELLO, 1, 2, 'tok'], ErrorCode.BAD_ARGUMENTS, CloseCode.UNSUPPORTED_VERSION],
      [[ClientOp.HELLO, 1, 1, 'forged.token.here'], ErrorCode.NOT_AUTHENTICATED, CloseCode.AUTH_FAILED],
      [[ClientOp.HELLO, 1, 1, server.token('old', -60)], ErrorCode.NOT_AUTHENTICATED, CloseCode.TOKEN_EXPIRED],
    ];
    for (const [frame, code, close] of cases) {
      const s = await RawSocket.open(server.url);
      const started = Date.now();
      s.send(frame);
      const closed = await s.waitClosed(3000);
      t.equal(closed.code, close, `${JSON.stringify(frame).slice(0, 40)}: close ${close}`);
      t.ok(Date.now() - started < 2000, 'at once, not at the hello timeout');
      const errors = s.frames.filter((f) => f[0] === ServerOp.ERROR);
      t.same(errors.map((f) => f.slice(0, 3)), [[ServerOp.ERROR, 1, code]], `one ERROR ${code} with ref 1`);
    }
  });

  t.test('integers: whole floats are understood; a bad op keeps its valid ref', async (t) => {
    const s = await hello('numbers');
    s.sendBytes(Buffer.from('92cb4000000000000000cb4014000000000000', 'hex')); // [2.0, 5.0]
    t.equal((await reply(s, 5))[0], ServerOp.REPLY, 'float64 2.0 is PING');
    s.send(['2', 6]);
    t.same((await reply(s, 6)).slice(0, 3), [ServerOp.ERROR, 6, ErrorCode.BAD_FRAME], '["2", 6] → BAD_FRAME with ref 6');
    s.send([2.5, 7]);
    t.same((await reply(s, 7)).slice(0, 3), [ServerOp.ERROR, 7, ErrorCode.BAD_FRAME]);
  });

  t.test('repeated JOIN, RESUME past the room, INBOX_ACK past the inbox, LEAVE then JOIN back to back', async (t) => {
    const s = await hello('edges');
    s.send([ClientOp.JOIN, 2, 'edge-room', Role.VIEWER]);
    const first = (await reply(s, 2))[2] as Record<string, unknown>;
    s.send([ClientOp.JOIN, 3, 'edge-room', Role.VIEWER]);
    const again = (await reply(s, 3))[2] as Record<string, unknown>;
    t.equal(again.viewers, first.viewers, 'a repeated JOIN replies again and counts the viewer once');
    s.send([ClientOp.RESUME, 4, 'edge-room', 1000]);
    t.match((await reply(s, 4))[2], { missed: 0, resync: true }, 'lastSeq above the room\'s seq: nothing replayed, resync');
    s.send([ClientOp.INBOX_ACK, 5, 999]);
    t.match((await reply(s, 5))[2], { acked: 0 }, 'acking past the inbox acknowledges what exists (nothing here)');
    for (let i = 0; i < 7; i++) s.send([ClientOp.JOIN, 10 + i, `fill-${i}`, Role.VIEWER]);
    for (let i = 0; i < 7; i++) t.equal((await reply(s, 10 + i))[0], ServerOp.REPLY);
    s.send([ClientOp.LEAVE, 30, 'edge-room']);
    s.send([ClientOp.JOIN, 31, 'ninth-room', Role.VIEWER]);
    t.equal((await reply(s, 30))[0], ServerOp.REPLY);
    t.equal((await reply(s, 31))[0], ServerOp.REPLY, 'the join after a leave fits the 8-room limit');
  });

  t.test('every reply error is counted in /metrics, actor refusals included', async (t) => {
    const host = await hello('m-host');
    host.send([ClientOp.JOIN, 2, 'm-room', Role.HOST]);
    await reply(host, 2);
    const fan = await hello('m-fan');
    fan.send([ClientOp.JOIN, 2, 'm-room', Role.VIEWER]);
    await reply(fan, 2);
    const mint = await fetch(`${server.http}/debug/mint?user=m-fan&coins=3&op=mint-${randomUUID()}`, { method: 'POST' });
    t.equal(mint.status, 200);
    const op = `op-${randomUUID()}`;
    const want: [unknown[], number][] = [
      [[ClientOp.JOIN, 3, 'm-room', Role.HOST], ErrorCode.NOT_ROOM_OWNER],
      [[ClientOp.ROOM_END, 4, 'm-room'], ErrorCode.NOT_ROOM_OWNER],
      [[ClientOp.GIFT, 5, 'm-room', 'castle', 1, `op-${randomUUID()}`], ErrorCode.INSUFFICIENT_FUNDS],
      [[ClientOp.GIFT, 6, 'm-room', 'no-such-gift', 1, `op-${randomUUID()}`], ErrorCode.UNKNOWN_GIFT],
      [[ClientOp.GIFT, 7, 'm-room', 'rose', '5', `op-${randomUUID()}`], ErrorCode.INVALID_AMOUNT],
      [[ClientOp.GIFT, 8, 'm-room', 'rose', 1, op], -1],
      [[ClientOp.GIFT, 9, 'm-room', 'heart', 1, op], ErrorCode.OP_ID_REUSED],
      [[ClientOp.GIFT, 10, 'other-room', 'rose', 1, `op-${randomUUID()}`], ErrorCode.NOT_IN_ROOM],
    ];
    for (const [frame, code] of want) {
      fan.send(frame);
      const r = await reply(fan, frame[1] as number);
      if (code < 0) t.equal(r[0], ServerOp.REPLY, 'a gift that succeeds');
      else t.same(r.slice(0, 3), [ServerOp.ERROR, frame[1], code], `${JSON.stringify(frame).slice(0, 50)} → ${code}`);
    }
    host.send([ClientOp.GIFT, 3, 'm-room', 'rose', 1, `op-${randomUUID()}`]);
    t.same((await reply(host, 3)).slice(0, 3), [ServerOp.ERROR, 3, ErrorCode.CANNOT_GIFT_SELF]);
    host.send([ClientOp.ROOM_END, 4, 'm-room']);
    await reply(host, 4);
    fan.send([ClientOp.GIFT, 11, 'm-room', 'rose', 1, `op-${randomUUID()}`]);
    t.same((await reply(fan, 11)).slice(0, 3), [ServerOp.ERROR, 11, ErrorCode.ROOM_NOT_LIVE]);
    const text = await metrics();
    for (const code of [123, 200, 201, 202, 203, 204, 205, 122]) {
      t.match(text, new RegExp(`halobuzz_errors_total\\{code="${code}",name="[A-Z_]+"\\} [1-9]`), `errors_total counts ${code}`);
    }
  });

  t.test('oversized frames: 1009 up to 4× the limit; beyond it uWS cuts (1006), ws still closes with 1009; all counted', async (t) => {
    const uws = (await transport()) === 'uws';
    const a = await hello('big-a');
    a.sendBytes(Buffer.alloc(MAX_FRAME * 2, 0x90));
    t.equal((await a.waitClosed()).code, CloseCode.MESSAGE_TOO_BIG);
    const b = await hello('big-b');
    b.sendBytes(Buffer.alloc(MAX_FRAME * 8, 0x90));
    t.equal((await b.waitClosed()).code, uws ? 1006 : CloseCode.MESSAGE_TOO_BIG, uws ? 'above 4× uWS drops the connection without a close frame' : 'ws closes every oversized frame with 1009');
    const want = uws ? /halobuzz_oversized_frames_total\{outcome="cut"\} 1/ : /halobuzz_oversized_frames_total\{outcome="closed_1009"\} 2/;
    await waitFor('both counted', async () => want.test(await metrics()), 3000);
    const text = await metrics();
    t.match(text, uws ? /halobuzz_oversized_frames_total\{outcome="closed_1009"\} 1/ : /halobuzz_oversized_frames_total\{outcome="closed_1009"\} 2/);
  });

  t.test('text frames: valid UTF-8 gets TEXT_FRAME and stays open; invalid UTF-8 fails the connection, counted', async (t) => {
    const a = await hello('text-a');
    a.sendBytes('{"op":"chat"}', false);
    t.same((await a.next((f) => f[0] === ServerOp.ERROR)).slice(0, 3), [ServerOp.ERROR, 0, ErrorCode.TEXT_FRAME]);
    a.send([ClientOp.PING, 9]);
    await reply(a, 9);
    t.equal(a.closed, null, 'still open');
    const b = await hello('text-b');
    b.ws.send(Buffer.from([0x94, 0xff, 0xfe]), { binary: false });
    t.equal((await b.waitClosed()).code, (await transport()) === 'uws' ? 1006 : 1007, 'RFC 6455: the connection fails (uWS: dropped; ws: 1007)');
    await waitFor('counted', async () => /halobuzz_transport_cuts_total\{reason="text_not_utf8"\} 1/.test(await metrics()), 3000);
  });
});
