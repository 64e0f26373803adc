import t from 'tap';
import WebSocket from 'ws';
import { waitFor } from '../../tools/server-process';
import { WsSocketServer } from './ws-socket-server';
import { matchRoute, statusLine, type ConnectionCallbacks, type SocketConnection, type SocketServerOptions } from './socket-server';

function options(over: Partial<SocketServerOptions> & { conns?: SocketConnection[]; received?: Buffer[]; oversized?: boolean[] } = {}): SocketServerOptions {
  return {
    path: '/ws', maxFrameBytes: 1024, maxBackpressureBytes: 1 << 20, idleTimeoutSec: 0, acceptUpgrade: () => true,
    onTransportCut: () => undefined,
    routes: [{ method: 'GET', path: '/hello/:name', handle: (params, query) => ({ status: 200, contentType: 'text/plain', body: `hi ${params.name}${query.get('x') ?? ''}` }) }],
    onConnection: (conn): ConnectionCallbacks => {
      over.conns?.push(conn);
      return {
        message: (data) => void over.received?.push(Buffer.from(data as Uint8Array)),
        oversized: (closedByTransport) => void over.oversized?.push(closedByTransport),
        slow: () => conn.close(4009, 'slow consumer'),
        closed: () => undefined,
      };
    },
    ...over,
  };
}

async function client(port: number): Promise<{ ws: WebSocket; frames: Buffer[]; closed: Promise<number> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const frames: Buffer[] = [];
  ws.on('message', (d: Buffer) => frames.push(d));
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await new Promise((r) => ws.once('open', r));
  return { ws, frames, closed };
}


t.test('publish hands the same encoded buffer to every subscriber, unsubscribed sockets get nothing', async (t) => {
  const conns: SocketConnection[] = [];
  const server = new WsSocketServer(options({ conns }));
  const port = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.close());
  const clients = await Promise.all([0, 1, 2].map(() => client(port)));
  await waitFor('three connections', () => conns.length === 3);
  conns[0]!.subscribe('room');
  conns[1]!.subscribe('room');
  const sent: unknown[] = [];
  const original = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: unknown, ...rest: unknown[]) {
    sent.push(data);
    return (original as (...a: unknown[]) => void).call(this, data, ...rest);
  } as typeof original;
  try {
    server.publish('room', new Uint8Array([0x92, 0x50, 0x01]));
  } finally {
    WebSocket.prototype.send = original;
  }
  t.equal(sent.length, 2, 'two subscribers, two sends');
  t.equal(sent[0], sent[1], 'of one and the same Buffer: encoded once, never copied');
  await waitFor('both subscribers received it', () => clients[0]!.frames.length === 1 && clients[1]!.frames.length === 1);
  t.same([...clients[0]!.frames[0]!], [0x92, 0x50, 0x01]);
  await new Promise((r) => setTimeout(r, 50));
  t.equal(clients[2]!.frames.length, 0, 'the third was not subscribed');
  conns[0]!.unsubscribe('room');
  server.publish('room', new Uint8Array([0x91, 0x02]));
  await waitFor('the remaining subscriber got the second frame', () => clients[1]!.frames.length === 2);
  t.equal(clients[0]!.frames.length, 1, 'an unsubscribed socket gets nothing more');
  for (const c of clients) c.ws.close();
});

t.test('frames over the limit are refused by ws with 1009 and reported; routes and upgrades are served', async (t) => {
  const received: Buffer[] = [];
  const oversized: boolean[] = [];
  let accepting = true;
  const server = new WsSocketServer(options({ received, oversized, acceptUpgrade: () => accepting }));
  const port = await server.listen('127.0.0.1', 0);
  t.teardown(() => server.close());
  const c = await client(port);
  c.ws.send(Buffer.alloc(1024, 1));
  await waitFor('a frame at the limit arrives', () => received.length === 1);
  c.ws.send(Buffer.alloc(100_000, 1));
  t.equal(await c.closed, 1009, 'a frame over it closes with 1009');
  t.same(oversized, [true], 'reported as closed by the transport');
  const res = await fetch(`http://127.0.0.1:${port}/hello/asha?x=!`);
  t.equal(await res.text(), 'hi asha!');
  t.equal((await fetch(`http://127.0.0.1:${port}/nope`)).status, 404);
  accepting = false;
  const refused = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  const status = await new Promise<number>((r) => refused.on('unexpected-response', (_req, response) => r(response.statusCode ?? 0)));
  t.equal(status, 503, 'no upgrades while draining');
  const wrongPath = new WebSocket(`ws://127.0.0.1:${port}/other`);
  t.equal(await new Promise<number>((r) => wrongPath.on('unexpected-response', (_req, response) => r(response.statusCode ?? 0))), 404);
});

t.test('route matching and status lines', async (t) => {
  t.same(matchRoute('/debug/presence/:user', '/debug/presence/a%20b'), { user: 'a b' });
  t.equal(matchRoute('/debug/presence/:user', '/debug/presence'), null);
  t.equal(matchRoute('/health', '/ready'), null);
  t.equal(statusLine(503), '503 Service Unavailable');
});
