/**
 * The baseline: how most live-streaming backends are built today. Socket.IO 4.8 with JSON payloads and
 * the @socket.io/redis-adapter over Redis (REDIS_URL), with the same scenario semantics as HaloBuzz:
 * authenticate with the same JWT, join a room, chat with a per-room sequence number, send a gift that is
 * checked against an in-memory balance and broadcast. No durability, no ledger: the baseline gets every
 * advantage of doing less.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import Redis from 'ioredis';
import { verifyAccessToken } from '../../core/auth/jwt';

const secret = process.env.HALOBUZZ_JWT_SECRET ?? '';
const port = Number(process.env.PORT ?? 0);
const http = createServer();
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

if (process.env.REDIS_URL) {
  const pub = new Redis(process.env.REDIS_URL);
  const sub = pub.duplicate();
  io.adapter(createAdapter(pub, sub));
}

const seqs = new Map<string, number>();
const balances = new Map<string, number>();
const PRICES: Record<string, number> = { rose: 1, heart: 5, coffee: 10 };

io.use((socket, next) => {
  const verdict = verifyAccessToken(String(socket.handshake.auth?.token ?? ''), { secret, issuer: 'halobuzz', audience: 'halobuzz-realtime' });
  if (!verdict.ok) return next(new Error(verdict.reason));
  socket.data.user = verdict.claims.sub;
  next();
});

io.on('connection', (socket) => {
  const user = socket.data.user as string;
  socket.on('join', (room: string, ack?: (r: unknown) => void) => {
    void socket.join(room);
    ack?.({ room, seq: seqs.get(room) ?? 0 });
  });
  socket.on('chat', (msg: { room: string; text: string }, ack?: (r: unknown) => void) => {
    const seq = (seqs.get(msg.room) ?? 0) + 1;
    seqs.set(msg.room, seq);
    io.to(msg.room).emit('chat', { room: msg.room, seq, ts: Date.now(), from: user, text: msg.text });
    ack?.({ seq });
  });
  socket.on('gift', (msg: { room: string; giftId: string; count: number }, ack?: (r: unknown) => void) => {
    const coins = (PRICES[msg.giftId] ?? 1) * msg.count;
    const balance = balances.get(user) ?? 1_000_000_000;
    if (balance < coins) return ack?.({ error: 'INSUFFICIENT_FUNDS' });
    balances.set(user, balance - coins);
    const seq = (seqs.get(msg.room) ?? 0) + 1;
    seqs.set(msg.room, seq);
    io.to(msg.room).emit('gift', { room: msg.room, seq, ts: Date.now(), from: user, giftId: msg.giftId, count: msg.count, coins });
    ack?.({ seq, balance: balance - coins });
  });
});

http.listen(port, '127.0.0.1', () => {
  const address = http.address();
  console.log(JSON.stringify({ event: 'listening', port: typeof address === 'object' && address ? address.port : port, redis: Boolean(process.env.REDIS_URL) }));
});
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
