/**
 * One small connection interface over both wire protocols, so every scenario drives HaloBuzz, the
 * Socket.IO baseline and the raw uWS ceiling with the same code. The Socket.IO side is the "thin protocol
 * shim": it maps join/chat/gift onto Socket.IO events with acknowledgements.
 */
import { io, type Socket } from 'socket.io-client';
import { randomUUID } from 'node:crypto';
import { ClientOp, Role, ServerOp } from '../protocol/codes';
import { LoadConnection } from './load-client';
import type { Target } from './targets';

export interface BenchConn {
  join(room: string, host?: boolean): Promise<void>;
  /** Fire and forget: the reply is not awaited (senders run open loop). */
  chat(room: string, text: string): void;
  gift(room: string): void;
  /** Stop reading from the socket (the kernel buffers fill, then the server's). */
  pause(): void;
  close(): void;
  closedCode(): number | null;
}

export interface Deliveries {
  /** A chat arrived; `text` carries the sender's timestamp. */
  onChat(text: string): void;
  onGift(): void;
}

type RawSocket = { pause(): void; resume(): void };

export async function connect(target: Target, user: string, sink: Deliveries, localAddress?: string): Promise<BenchConn> {
  return target.protocol === 'msgpack' ? connectMsgpack(target, user, sink, localAddress) : connectSocketIo(target, user, sink, localAddress);
}

async function connectMsgpack(target: Target, user: string, sink: Deliveries, localAddress?: string): Promise<BenchConn> {
  const c = await LoadConnection.open(target.server.url, (f) => {
    if (f[0] === ServerOp.ROOM_CHAT) sink.onChat(f[5] as string);
    else if (f[0] === ServerOp.ROOM_GIFT) sink.onGift();
  }, localAddress);
  await c.hello(target.server.token(user));
  return {
    join: async (room, host) => {
      await c.request(ClientOp.JOIN, room, host ? Role.HOST : Role.VIEWER);
    },
    chat: (room, text) => c.fire(ClientOp.CHAT, room, text),
    gift: (room) => c.fire(ClientOp.GIFT, room, 'rose', 1, randomUUID()),
    pause: () => ((c as unknown as { ws: { _socket: RawSocket } }).ws._socket.pause()),
    close: () => c.close(),
    closedCode: () => c.closedCode,
  };
}

async function connectSocketIo(target: Target, user: string, sink: Deliveries, localAddress?: string): Promise<BenchConn> {
  const socket: Socket = io(`http://127.0.0.1:${target.server.port}`, {
    transports: ['websocket'], forceNew: true, reconnection: false, auth: { token: target.server.token(user) },
    ...(localAddress ? { localAddress } : {}),
  } as Parameters<typeof io>[1]);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  let closed: number | null = null;
  socket.on('disconnect', () => (closed = 1006));
  socket.on('chat', (m: { text: string }) => sink.onChat(m.text));
  socket.on('gift', () => sink.onGift());
  return {
    join: async (room) => {
      await socket.timeout(10_000).emitWithAck('join', room);
    },
    chat: (room, text) => void socket.emit('chat', { room, text }),
    gift: (room) => void socket.emit('gift', { room, giftId: 'rose', count: 1 }),
    pause: () => {
      const engine = socket.io.engine as unknown as { transport: { ws: { _socket: RawSocket } } };
      engine.transport.ws._socket.pause();
    },
    close: () => socket.close(),
    closedCode: () => closed,
  };
}
