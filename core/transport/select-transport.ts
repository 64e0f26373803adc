/**
 * Picks the socket server: `HALOBUZZ_TRANSPORT=auto|uws|ws`. `auto` uses uWebSockets.js only when its
 * native binding really loaded; the build we ship falls back to a partial JavaScript imitation on a Node
 * it has no binary for (22, 24), which must never serve, so "the module imported" proves nothing: the
 * check is that its functions are native. Otherwise `ws`, with one warning saying why and how to get uWS.
 * `uws` when the binding does not load is a coded start-up error.
 */
import type * as UwsModule from 'uWebSockets.js';
import type { SocketServer, SocketServerOptions, TransportName } from './socket-server';
import { WsSocketServer } from './ws-socket-server';

export type TransportMode = 'auto' | TransportName;

export class TransportError extends Error {
  readonly code = 'HB_TRANSPORT_UNAVAILABLE';
}

export interface TransportChoice {
  readonly name: TransportName;
  /** Why `auto` did not pick uWS (null when it did, or when `ws` was asked for). */
  readonly fallbackReason: string | null;
  create(options: SocketServerOptions): SocketServer;
}

/** The uWS module if its native binding loads here, else why not. Messages it prints while loading are kept. */
export function loadNativeUws(): { uws: typeof UwsModule } | { reason: string } {
  const said: string[] = [];
  const { warn, log } = console;
  console.warn = (...args: unknown[]) => void said.push(args.map(String).join(' '));
  console.log = console.warn;
  let mod: typeof UwsModule;
  try {
    mod = require('uWebSockets.js') as typeof UwsModule;
  } catch (err) {
    return { reason: `uWebSockets.js could not be loaded: ${(err as Error).message.split('\n')[0]}` };
  } finally {
    console.warn = warn;
    console.log = log;
  }
  const native = typeof mod.us_socket_local_port === 'function' && /\[native code\]/.test(Function.prototype.toString.call(mod.App));
  if (native) return { uws: mod };
  const detail = said.join(' ').replace(/\s+/g, ' ').trim();
  return { reason: `uWebSockets.js has no native binary for Node ${process.version} (ABI ${process.versions.modules}) on ${process.platform}-${process.arch}${detail ? `: ${detail.slice(0, 200)}` : ''}` };
}

export const UWS_HINT = 'to use uWebSockets.js, run a Node it ships a binary for (20 with the bundled build) or install the official build for your Node (README, "Node versions and transports")';

export function selectTransport(mode: TransportMode): TransportChoice {
  const ws: TransportChoice = { name: 'ws', fallbackReason: null, create: (o) => new WsSocketServer(o) };
  if (mode === 'ws') return ws;
  const loaded = loadNativeUws();
  if ('uws' in loaded) {
    // Required only here: the uWS adapter imports the native module at load.
    const { UwsSocketServer } = require('./uws-socket-server') as typeof import('./uws-socket-server');
    return { name: 'uws', fallbackReason: null, create: (o) => new UwsSocketServer(loaded.uws, o) };
  }
  if (mode === 'uws') throw new TransportError(`HALOBUZZ_TRANSPORT=uws but ${loaded.reason}; ${UWS_HINT}, or set HALOBUZZ_TRANSPORT=ws or auto`);
  return { ...ws, fallbackReason: loaded.reason };
}
