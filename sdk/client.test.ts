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
  return { factory, push, reply, next };
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
