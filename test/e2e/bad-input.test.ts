import t from 'tap';
import { startServer, waitFor } from '../../tools/server-process';
import { RawSocket } from '../helpers/raw-socket';
import { ClientOp, CloseCode, ErrorCode, Role, ServerOp } from '../../protocol/codes';

t.test('bad input gets its code and leaves other clients working', async (t) => {
  const server = await startServer({ HALOBUZZ_MAX_FRAME_BYTES: '1024', HALOBUZZ_HELLO_TIMEOUT_MS: '300' });
  t.teardown(() => server.stop());
  const bystander = server.client('bystander');
  await bystander.connect();
  await bystander.join('calm');
  const hello = async (user: string) => {
    const s = await RawSocket.open(server.url);
    s.send([ClientOp.HELLO, 1, 1, server.token(user)]);
    await s.next((f) => f[0] === ServerOp.REPLY && f[1] === 1);
    return s;
  };

  t.test('oversized frame closes with 1009', async (t) => {
    const s = await hello('big');
    s.send([ClientOp.CHAT, 2, 'calm', 'x'.repeat(4000)]);
    t.equal((await s.waitClosed()).code, CloseCode.MESSAGE_TOO_BIG);
  });
  t.test('malformed MessagePack, text frames and unknown ops are answered, not fatal', async (t) => {
    const s = await hello('junk');
    s.sendBytes(Buffer.from([0xc1, 0x00]));
    s.sendBytes('{"op":"chat"}', false);
    s.send([200, 9]);
    s.send([ClientOp.JOIN, 10, 12345]);
    const codes = async () => {
      await waitFor('4 errors', () => s.frames.filter((f) => f[0] === ServerOp.ERROR).length === 4);
      return s.frames.filter((f) => f[0] === ServerOp.ERROR).map((f) => f[2]);
    };
    t.same(await codes(), [ErrorCode.BAD_FRAME, ErrorCode.TEXT_FRAME, ErrorCode.UNKNOWN_OP, ErrorCode.BAD_ARGUMENTS]);
    s.send([ClientOp.PING, 11]);
    await s.next((f) => f[0] === ServerOp.REPLY && f[1] === 11);
    t.equal(s.closed, null, 'still open');
  });
  t.test('requests without hello are refused; no hello at all times out', async (t) => {
    const s = await RawSocket.open(server.url);
    s.send([ClientOp.JOIN, 1, 'calm', Role.VIEWER]);
    const err = await s.next((f) => f[0] === ServerOp.ERROR);
    t.equal(err[2], ErrorCode.NOT_AUTHENTICATED);
    t.equal((await s.waitClosed()).code, CloseCode.HELLO_TIMEOUT);
  });
  t.test('forged and expired tokens close the socket', async (t) => {
    const forged = await RawSocket.open(server.url);
    const good = server.token('eve');
    const mid = good.length - 10;
    forged.send([ClientOp.HELLO, 1, 1, good.slice(0, mid) + (good[mid] === 'A' ? 'B' : 'A') + good.slice(mid + 1)]);
    t.equal((await forged.waitClosed()).code, CloseCode.AUTH_FAILED);
    const expiring = await RawSocket.open(server.url);
    expiring.send([ClientOp.HELLO, 1, 1, server.token('short', 1)]);
    await expiring.next((f) => f[0] === ServerOp.REPLY);
    t.equal((await expiring.waitClosed(10_000)).code, CloseCode.TOKEN_EXPIRED, 'closed when the token expires');
  });
  t.test('repeated protocol errors close with POLICY_VIOLATION', async (t) => {
    const s = await hello('abuser');
    for (let i = 0; i < 30; i++) s.send([250, i + 2]);
    t.equal((await s.waitClosed()).code, CloseCode.POLICY_VIOLATION);
  });
  t.test('errors are counted in /metrics', async (t) => {
    const text = await (await fetch(`${server.http}/metrics`)).text();
    t.match(text, /halobuzz_errors_total\{code="100",name="BAD_FRAME"\} [1-9]/);
    t.match(text, /halobuzz_closes_total\{code="4008",name="POLICY_VIOLATION"\} 1/);
    t.match(text, /halobuzz_closes_total\{code="1009",name="MESSAGE_TOO_BIG"\} 1/);
  });
  t.test('the bystander never noticed', async (t) => {
    t.ok((await bystander.ping()).ts > 0);
    t.equal(bystander.connected, true);
  });
});

t.test('a slow consumer is disconnected with SLOW_CONSUMER, others keep receiving', async (t) => {
  const server = await startServer({
    HALOBUZZ_MAX_BACKPRESSURE_BYTES: '65536',
    HALOBUZZ_CHAT_PER_SECOND: '100000', HALOBUZZ_CHAT_BURST: '100000', HALOBUZZ_USER_CHAT_PER_SECOND: '100000', HALOBUZZ_USER_CHAT_BURST: '100000',
    HALOBUZZ_FRAMES_PER_SECOND: '100000', HALOBUZZ_FRAMES_BURST: '100000',
  });
  t.teardown(() => server.stop());
  const host = server.client('host');
  await host.connect();
  await host.join('busy', Role.HOST);
  const healthy = server.client('healthy');
  await healthy.connect();
  await healthy.join('busy');
  let healthyCount = 0;
  healthy.on('chat', () => healthyCount++);
  const slow = await RawSocket.open(server.url);
  slow.send([ClientOp.HELLO, 1, 1, server.token('slow')]);
  await slow.next((f) => f[1] === 1);
  slow.send([ClientOp.JOIN, 2, 'busy', 0]);
  await slow.next((f) => f[1] === 2);
  // Stop reading: the kernel buffers fill, then uWS's per-socket buffer passes the limit.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (slow.ws as any)._socket.pause();
  // Loopback kernel buffers absorb several MB first, so flood in rounds until the server reports the close.
  const text = 'y'.repeat(490);
  let sent = 0;
  const slowClosedOnServer = async () => /halobuzz_closes_total\{code="4009",name="SLOW_CONSUMER"\} 1/.test(await (await fetch(`${server.http}/metrics`)).text());
  for (let round = 0; round < 30 && !(await slowClosedOnServer()); round++) {
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) sends.push(host.chat('busy', text));
    await Promise.all(sends);
    sent += 2000;
  }
  t.ok(await slowClosedOnServer(), 'server closed the slow consumer');
  await waitFor('healthy got all', () => healthyCount === sent, 30_000);
  t.equal(healthyCount, sent, 'the healthy viewer received every message');
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  (slow.ws as any)._socket.resume();
  const closed = await slow.waitClosed(20_000);
  t.equal(closed.code, CloseCode.SLOW_CONSUMER, 'the slow client reads up to a 4009 close frame');
});

t.test('graceful shutdown closes clients with SERVER_SHUTDOWN', async (t) => {
  const server = await startServer();
  const s = await RawSocket.open(server.url);
  s.send([ClientOp.HELLO, 1, 1, server.token('x')]);
  await s.next((f) => f[1] === 1);
  server.child.kill('SIGTERM');
  t.equal((await s.waitClosed()).code, CloseCode.SERVER_SHUTDOWN);
  t.equal(await server.stop(), 0, 'process exits cleanly');
});
