/**
 * The socket server on `ws` (pure JavaScript): runs on every Node the project supports. Same path, port,
 * limits and close codes as the uWS server:
 * - frames over `maxFrameBytes` are refused by `ws` itself while reading the header, with a 1009 close
 *   frame, whatever their size; a text frame that is not UTF-8 closes with 1007 (RFC 6455);
 * - publish encodes nothing: the core's one encoded frame is handed to every subscriber as the same Buffer
 *   (`ws` frames it as [header, payload] without copying the payload);
 * - writes of one event-loop turn are corked per socket and flushed together;
 * - slow consumers: the core closes a socket with more than `maxBackpressureBytes` queued with 4009 (the
 *   close frame queued after the backlog); a socket 8× past the limit is dropped at once, as uWS does;
 * - idle sockets: pinged every half idle timeout, dropped when a ping went unanswered.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { NOT_FOUND, matchRoute, type ConnectionCallbacks, type HttpReply, type PeerInfo, type SocketConnection, type SocketServer, type SocketServerOptions } from './socket-server';

/** `ws` keeps the TCP socket private; corking it is the only way to batch one turn's frames per socket. */
function tcpOf(ws: WebSocket): Duplex | undefined {
  return (ws as unknown as { _socket?: Duplex })._socket;
}

class WsConnection implements SocketConnection {
  dead = false;
  alive = true;
  callbacks: ConnectionCallbacks | null = null;
  readonly topics = new Set<string>();
  private corked = false;
  /** What was queued when this turn's cork began: the backlog the kernel had refused so far. */
  private queuedAtCork = 0;

  constructor(readonly ws: WebSocket, private readonly server: WsSocketServer, private readonly maxBackpressure: number, readonly peer: PeerInfo) {}

  send(frame: Uint8Array): void {
    this.write(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength));
  }

  /** Sends bytes shared with other sockets (a publish): never copied, never modified. */
  write(bytes: Buffer): void {
    if (this.dead) return;
    this.cork();
    this.ws.send(bytes, { binary: true });
    if (!this.corked) this.checkBackpressure();
  }

  /**
   * Bytes queued that the network did not take. While corked, this turn's frames sit in the socket's
   * buffer by design, so the backlog counted is the one from before the cork; the check that follows the
   * uncork sees the truth.
   */
  bufferedAmount(): number {
    if (this.dead) return 0;
    return this.corked ? this.queuedAtCork : this.ws.bufferedAmount;
  }

  close(code: number, reason: string): void {
    if (this.dead) return;
    this.dead = true;
    // A close reason may hold at most 123 bytes.
    this.ws.close(code, Buffer.from(reason).subarray(0, 120).toString());
  }

  subscribe(topic: string): void {
    if (!this.dead) this.server.subscribe(this, topic);
  }

  unsubscribe(topic: string): void {
    this.server.unsubscribe(this, topic);
  }

  terminate(): void {
    this.dead = true;
    this.ws.terminate();
  }

  private cork(): void {
    const tcp = tcpOf(this.ws);
    if (this.corked || !tcp) return;
    this.queuedAtCork = this.ws.bufferedAmount;
    this.corked = true;
    tcp.cork();
    process.nextTick(() => {
      this.corked = false;
      tcp.uncork();
      this.checkBackpressure();
    });
  }

  /** After the turn's frames went to the kernel: a slow consumer is closed (4009), one 8× past the limit cut. */
  private checkBackpressure(): void {
    if (this.dead) return;
    const queued = this.ws.bufferedAmount;
    if (queued > this.maxBackpressure * 8) this.terminate();
    else if (queued > this.maxBackpressure) this.callbacks?.slow();
  }
}

export class WsSocketServer implements SocketServer {
  readonly name = 'ws' as const;
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly topics = new Map<string, Set<WsConnection>>();
  private readonly connections = new Set<WsConnection>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(private readonly o: SocketServerOptions) {
    this.wss = new WebSocketServer({ noServer: true, maxPayload: o.maxFrameBytes, perMessageDeflate: false, clientTracking: false });
    this.http = createServer({ noDelay: true }, (req, res) => void this.route(req, res));
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve((this.http.address() as { port: number }).port);
      });
      if (this.o.idleTimeoutSec > 0) {
        this.heartbeat = setInterval(() => this.beat(), (this.o.idleTimeoutSec * 1000) / 2);
        this.heartbeat.unref();
      }
    });
  }

  publish(topic: string, frame: Uint8Array): void {
    const subscribers = this.topics.get(topic);
    if (!subscribers) return;
    const bytes = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
    for (const conn of subscribers) conn.write(bytes);
  }

  stopListening(): void {
    this.http.close();
    this.http.closeIdleConnections();
  }

  /** After the core closed every session: up to a second for close handshakes to finish, then cut the rest. */
  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.stopListening();
    for (let waited = 0; this.connections.size > 0 && waited < 1000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    for (const conn of this.connections) conn.terminate();
  }

  subscribe(conn: WsConnection, topic: string): void {
    let set = this.topics.get(topic);
    if (!set) this.topics.set(topic, (set = new Set()));
    set.add(conn);
    conn.topics.add(topic);
  }

  unsubscribe(conn: WsConnection, topic: string): void {
    const set = this.topics.get(topic);
    conn.topics.delete(topic);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.topics.delete(topic);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    if (new URL(req.url ?? '/', 'http://x').pathname !== this.o.path) return refuse('404 Not Found');
    if (!this.o.acceptUpgrade()) return refuse('503 Service Unavailable');
    const forwarded = req.headers['x-forwarded-for'];
    const peer: PeerInfo = { address: req.socket.remoteAddress ?? '', forwardedFor: (Array.isArray(forwarded) ? forwarded.join(', ') : forwarded) || null };
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, peer));
  }

  private open(ws: WebSocket, peer: PeerInfo): void {
    (tcpOf(ws) as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
    const conn = new WsConnection(ws, this, this.o.maxBackpressureBytes, peer);
    this.connections.add(conn);
    const callbacks = (conn.callbacks = this.o.onConnection(conn));
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      conn.alive = true;
      if (!conn.dead) callbacks.message(data, isBinary);
    });
    ws.on('pong', () => {
      conn.alive = true;
    });
    ws.on('error', (err: Error & { code?: string }) => {
      // `ws` refused the frame and is closing the connection itself with the matching close frame.
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') callbacks.oversized(true);
      else if (err.code === 'WS_ERR_INVALID_UTF8') this.o.onTransportCut('text_not_utf8');
    });
    ws.on('close', (code: number) => {
      conn.dead = true;
      for (const topic of [...conn.topics]) this.unsubscribe(conn, topic);
      this.connections.delete(conn);
      callbacks.closed(code);
    });
  }

  private beat(): void {
    for (const conn of this.connections) {
      if (!conn.alive) {
        conn.terminate();
        continue;
      }
      conn.alive = false;
      if (!conn.dead) conn.ws.ping();
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    let reply: HttpReply = NOT_FOUND;
    for (const route of this.o.routes) {
      if (route.method !== req.method) continue;
      const params = matchRoute(route.path, url.pathname);
      if (!params) continue;
      try {
        reply = await route.handle(params, url.searchParams);
      } catch (err) {
        reply = { status: 500, contentType: 'text/plain', body: (err as Error).message };
      }
      break;
    }
    req.resume();
    res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': Buffer.byteLength(reply.body) }).end(reply.body);
  }
}
