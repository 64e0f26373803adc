/**
 * The socket server on uWebSockets.js (native). Sends are corked; publish is uWS's own topic fan-out.
 * This build cuts the TCP connection without a close frame above its own frame and backpressure caps,
 * so those caps sit 4× and 8× above our limits, and the core enforces the limits itself with real 1009
 * and 4009 close frames. Loaded only when the native binding loads (select-transport.ts).
 */
import type * as UwsModule from 'uWebSockets.js';
import { NOT_FOUND, statusLine, type ConnectionCallbacks, type HttpReply, type PeerInfo, type SocketConnection, type SocketServer, type SocketServerOptions } from './socket-server';

type Uws = typeof UwsModule;
interface SocketData {
  callbacks: ConnectionCallbacks | null;
  conn: UwsConnection | null;
  peer: PeerInfo;
}

const SEND_DROPPED = 2;
/** The reasons uWS gives when it cuts a connection for bad input, and the metric label of each. */
const UWS_CUTS: Record<string, 'oversized' | 'text_not_utf8'> = { 'Received too big message': 'oversized', 'Received invalid UTF-8': 'text_not_utf8' };

class UwsConnection implements SocketConnection {
  dead = false;
  /** Set right after the core created the session for this socket. */
  callbacks: ConnectionCallbacks | null = null;
  constructor(private readonly ws: UwsModule.WebSocket<SocketData>, private readonly maxBackpressure: number, readonly peer: PeerInfo) {}

  send(frame: Uint8Array): void {
    if (this.dead) return;
    let status = 0;
    this.ws.cork(() => {
      status = this.ws.send(frame, true, false);
    });
    if (status === SEND_DROPPED || this.ws.getBufferedAmount() > this.maxBackpressure) this.callbacks?.slow();
  }

  bufferedAmount(): number {
    return this.dead ? 0 : this.ws.getBufferedAmount();
  }

  close(code: number, reason: string): void {
    if (this.dead) return;
    this.dead = true;
    this.ws.end(code, reason);
  }

  subscribe(topic: string): void {
    if (!this.dead) this.ws.subscribe(topic);
  }

  unsubscribe(topic: string): void {
    if (!this.dead) this.ws.unsubscribe(topic);
  }
}

export class UwsSocketServer implements SocketServer {
  readonly name = 'uws' as const;
  private readonly app: UwsModule.TemplatedApp;
  private listenSocket: UwsModule.us_listen_socket | null = null;

  constructor(private readonly uws: Uws, private readonly o: SocketServerOptions) {
    this.app = uws.App();
    this.routes();
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.app.listen(host, port, (socket) => {
        if (!socket) return reject(new Error(`cannot listen on ${host}:${port}`));
        this.listenSocket = socket;
        resolve(this.uws.us_socket_local_port(socket));
      });
    });
  }

  publish(topic: string, frame: Uint8Array): void {
    this.app.publish(topic, frame, true, false);
  }

  stopListening(): void {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
  }

  async close(): Promise<void> {
    this.stopListening();
  }

  private routes(): void {
    const o = this.o;
    this.app.ws<SocketData>(o.path, {
      compression: this.uws.DISABLED,
      maxPayloadLength: o.maxFrameBytes * 4,
      maxBackpressure: o.maxBackpressureBytes * 8,
      closeOnBackpressureLimit: 1,
      idleTimeout: o.idleTimeoutSec,
      sendPingsAutomatically: true,
      upgrade: (res, req, context) => {
        if (!o.acceptUpgrade()) {
          res.writeStatus('503 Service Unavailable').end('shutting down');
          return;
        }
        // Read during the upgrade: uWS's request object is gone afterwards.
        const forwarded = req.getHeader('x-forwarded-for');
        const peer = { address: Buffer.from(res.getRemoteAddressAsText()).toString(), forwardedFor: forwarded || null };
        res.upgrade<SocketData>({ callbacks: null, conn: null, peer },
          req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
      },
      open: (ws) => {
        const data = ws.getUserData();
        const conn = new UwsConnection(ws, o.maxBackpressureBytes, data.peer);
        data.conn = conn;
        data.callbacks = conn.callbacks = o.onConnection(conn);
      },
      message: (ws, message, isBinary) => {
        const callbacks = ws.getUserData().callbacks;
        if (!callbacks) return;
        if (message.byteLength > o.maxFrameBytes) return callbacks.oversized(false);
        callbacks.message(message, isBinary);
      },
      close: (ws, code, message) => {
        const { callbacks, conn } = ws.getUserData();
        if (conn) conn.dead = true;
        if (code === 1006) {
          const cut = UWS_CUTS[Buffer.from(message).toString()];
          if (cut) o.onTransportCut(cut);
        }
        callbacks?.closed(code);
      },
    });
    for (const route of o.routes) {
      const names = route.path.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1));
      const handler = (res: UwsModule.HttpResponse, req: UwsModule.HttpRequest) => {
        const params = Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(req.getParameter(i) ?? '')]));
        const query = new URLSearchParams(req.getQuery() ?? '');
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
        });
        Promise.resolve().then(() => route.handle(params, query)).then((reply) => write(reply), (err: Error) => write({ status: 500, contentType: 'text/plain', body: err.message }));
        const write = (reply: HttpReply) => {
          if (aborted) return;
          res.cork(() => res.writeStatus(statusLine(reply.status)).writeHeader('content-type', reply.contentType).end(reply.body));
        };
      };
      if (route.method === 'GET') this.app.get(route.path, handler);
      else this.app.post(route.path, handler);
    }
    this.app.any('/*', (res) => {
      res.writeStatus(statusLine(NOT_FOUND.status)).writeHeader('content-type', NOT_FOUND.contentType).end(NOT_FOUND.body);
    });
  }
}
