import t from 'tap';
import { HaloClient, type ChatEvent, type WebSocketLike } from './client';
import { ClientOp, Role, ServerOp } from '../protocol/codes';
import { decode, encode, roomChatFrame } from '../protocol/codec';

/** A socket the test plays the server on: it sees what the client sends and pushes frames back. */
function fakeServer() {
  const sent: unknown[][] = [];
  let ws: WebSocketLike | null = null;
  const factory = () => {
    ws = {
      binaryType: 'arraybuffer', readyState: 1,
      send: (data) => void sent.push(decode(data) as unknown[]),
      close: () => undefined, onopen: null, onmessage: null, onclose: null, onerror: null,
    };
    setImmediate(() => ws!.onopen?.({}));
    return ws;
  };
  const push = (frame: Uint8Array) => ws!.onmessage?.({ data: frame });
  const reply = (ref: number, result: unknown) => push(encode([ServerOp.REPLY, ref, result]));
  const next = async (op: number) => {
    for (let i = 0; i < 200; i++) {
      const found = sent.find((f) => f[0] === op && !(f as { seen?: boolean }).seen);
      if (found) {
        (found as { seen?: boolean }).seen = true;
        return found;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`client never sent op ${op}`);
  };
  return { factory, push, reply, next, sent, drop: (code: number) => ws!.onclose?.({ code, reason: '' }) };
}

t.test('a seq gap is never skipped: the client resumes from its last seq and sees every event once, in order', async (t) => {
  const server = fakeServer();
  const client = new HaloClient({ url: 'ws://fake', token: 'x', webSocket: server.factory, reconnect: false });
  const connecting = client.connect();
  const hello = await server.next(ClientOp.HELLO);
  server.reply(hello[1] as number, { v: 1, user: 'u', sid: 's', node: 'n', conn: 1, exp: 0, limits: {} });
  await connecting;
  const joining = client.join('r');
  const join = await server.next(ClientOp.JOIN);
  server.reply(join[1] as number, { room: 'r', seq: 5, viewers: 1, owner: null, role: Role.VIEWER, missed: 0, resync: false });
  await joining;
  const seen: number[] = [];
  client.on('chat', (e: ChatEvent) => seen.push(e.seq));

  server.push(roomChatFrame('r', 6, 1, 'a', 'six'));
  server.push(roomChatFrame('r', 8, 1, 'a', 'eight'));
  server.push(roomChatFrame('r', 9, 1, 'a', 'nine'));
  const resume = await server.next(ClientOp.RESUME);
  t.same(resume.slice(2, 4), ['r', 6], 'resumes from the last seq before the gap');
  for (const seq of [7, 8, 9]) server.push(roomChatFrame('r', seq, 1, 'a', String(seq)));
  server.reply(resume[1] as number, { room: 'r', seq: 9, viewers: 1, owner: null, role: Role.VIEWER, missed: 3, resync: false });
  server.push(roomChatFrame('r', 10, 1, 'a', 'ten'));
  await new Promise((r) => setTimeout(r, 20));
  t.same(seen, [6, 7, 8, 9, 10], 'no gap, no duplicate, in order');
  client.close();
});

t.test('placement: the nodes discovery names for a room are tried first, then the configured ones', async (t) => {
  const tried: string[] = [];
  const factory = (url: string): WebSocketLike => {
    tried.push(url);
    const ws: WebSocketLike = { binaryType: 'arraybuffer', readyState: 1, send: () => undefined, close: () => undefined, onopen: null, onmessage: null, onclose: null, onerror: null };
    // Every node refuses at once (closed before HELLO), so the client moves on to the next URL.
    setImmediate(() => ws.onclose?.({ code: 1006, reason: '' }));
    return ws;
  };
  const client = new HaloClient({ url: ['ws://a/ws', 'ws://b/ws'], token: 'x', webSocket: factory, reconnect: false, requestTimeoutMs: 100 });
  t.equal(client.currentUrl, 'ws://a/ws', 'the configured order before any hint');
  client.preferNodes(['ws://c/ws', 'ws://b/ws']);
  t.equal(client.currentUrl, 'ws://c/ws', 'the room\'s busiest node first');
  for (let i = 0; i < 3; i++) await client.connect().catch(() => undefined);
  t.same(tried, ['ws://c/ws', 'ws://b/ws', 'ws://a/ws'], 'then the other serving node, then the rest, each once');
});

t.test('after a reconnect, a room\'s requests wait for its RESUME instead of being refused (NOT_IN_ROOM)', async (t) => {
  const server = fakeServer();
  const client = new HaloClient({ url: 'ws://fake', token: 'x', webSocket: server.factory, reconnectMinDelayMs: 1, reconnectMaxDelayMs: 1, requestTimeoutMs: 200 });
  const welcome = async () => {
    const hello = await server.next(ClientOp.HELLO);
    server.reply(hello[1] as number, { v: 1, user: 'u', sid: 's', node: 'n', conn: 1, exp: 0, limits: {} });
  };
  const connecting = client.connect();
  await welcome();
  await connecting;
  const joining = client.join('r');
  const join = await server.next(ClientOp.JOIN);
  server.reply(join[1] as number, { room: 'r', seq: 3, viewers: 1, owner: null, role: Role.VIEWER, missed: 0, resync: false });
  await joining;

  // The node goes away (draining: 4012); the client reconnects and resumes the room.
  const reconnected = new Promise<void>((resolve) => client.once('connected', () => resolve()));
  server.drop(4012);
  await welcome();
  await reconnected;
  const chatting = client.chat('r', 'hello again');
  const resume = await server.next(ClientOp.RESUME);
  await new Promise((r) => setTimeout(r, 30));
  t.equal(server.sent.filter((f) => f[0] === ClientOp.CHAT).length, 0, 'the chat is not sent while the RESUME is unanswered');
  server.reply(resume[1] as number, { room: 'r', seq: 3, viewers: 1, owner: null, role: Role.VIEWER, missed: 0, resync: false });
  const chat = await server.next(ClientOp.CHAT);
  t.same(chat.slice(2), ['r', 'hello again'], 'then it goes');
  server.reply(chat[1] as number, { seq: 4, ts: 1 });
  t.same(await chatting, { seq: 4, ts: 1 }, 'and is answered');
  const dm = client.dm('someone', 'not about a room');
  t.ok(server.sent.some((f) => f[0] === ClientOp.DM), 'requests about no room never wait');
  client.close();
  await dm.catch(() => undefined);
});
