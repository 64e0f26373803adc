/**
 * The socket server seam: what the realtime core needs from a WebSocket library. Two implementations
 * pass one conformance suite (test/e2e/transport-conformance.test.ts): uWebSockets.js (native, fastest;
 * only where its binding loads) and `ws` (pure JavaScript, any Node). Neither leaks its library's types.
 */
import { STATUS_CODES } from 'node:http';
import type { Transport } from '../session';

export type TransportName = 'uws' | 'ws';

/** One HTTP answer of an operational route (/health, /ready, /metrics, /debug/*). */
export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** An operational HTTP route; `path` may hold `:name` segments, passed in `params`. */
export interface HttpRoute {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  handle(params: Readonly<Record<string, string>>, query: URLSearchParams): HttpReply | Promise<HttpReply>;
}

/** What the core does with one connection's frames and its end. */
export interface ConnectionCallbacks {
  /** A frame within the size limit. */
  message(data: Uint8Array | ArrayBuffer, isBinary: boolean): void;
  /**
   * A frame over `maxFrameBytes`. `closedByTransport`: the library already sent the 1009 close itself
   * (ws); otherwise the core closes with 1009 (uWS, up to its own cap).
   */
  oversized(closedByTransport: boolean): void;
  /** More than `maxBackpressureBytes` are queued for this socket after a send: the core closes it (4009). */
  slow(): void;
  /** The socket is gone (any cause); `code` as the library reports it. */
  closed(code: number): void;
}

/** A connection as the core drives it: the session's Transport plus being told it is gone. */
export interface SocketConnection extends Transport {
  /** True once the socket closed; sends are then dropped. */
  readonly dead: boolean;
  /** Where the connection came from: the peer's address and the upgrade's X-Forwarded-For (null: none). */
  readonly peer: PeerInfo;
}

export interface PeerInfo {
  readonly address: string;
  readonly forwardedFor: string | null;
}

export interface SocketServerOptions {
  /** The WebSocket path (`/ws`). */
  readonly path: string;
  readonly maxFrameBytes: number;
  /** Bytes queued for one socket before it is a slow consumer (closed with 4009 by the core). */
  readonly maxBackpressureBytes: number;
  /** Seconds without traffic before a silent socket is dropped (pings keep healthy ones alive); 0: never. */
  readonly idleTimeoutSec: number;
  /** False while draining: upgrades are refused with 503. */
  acceptUpgrade(): boolean;
  /** A new socket: the core makes its session and says what to do with its frames. */
  onConnection(conn: SocketConnection): ConnectionCallbacks;
  /** The library dropped a connection for bad input before the core saw the frame. */
  onTransportCut(reason: 'oversized' | 'text_not_utf8'): void;
  readonly routes: readonly HttpRoute[];
}

export interface SocketServer {
  readonly name: TransportName;
  /** Starts listening; resolves with the port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Sends one encoded frame to every socket subscribed to `topic` (encoded once, same bytes to each). */
  publish(topic: string, frame: Uint8Array): void;
  /** Stops accepting new connections; open ones stay. */
  stopListening(): void;
  /** Releases what is left once every connection was closed. */
  close(): Promise<void>;
}

/** The status line text for a code (uWS needs it; Node's http writes its own). */
export function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}

/** Matches `path` against a route pattern with `:name` segments; the params, or null. */
export function matchRoute(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!;
    if (w.startsWith(':')) params[w.slice(1)] = decodeURIComponent(got[i]!);
    else if (w !== got[i]) return null;
  }
  return params;
}

export const NOT_FOUND: HttpReply = { status: 404, contentType: 'application/json', body: '{"error":"not found"}' };
