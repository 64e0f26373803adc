/**
 * The servers a scenario can run against, started the same way and driven through the same interface:
 * HaloBuzz, the Socket.IO + Redis baseline, and the raw uWS ceiling.
 */
import { join } from 'node:path';
import { startServer, type ServerHandle } from '../tools/server-process';

export type TargetName = 'halobuzz' | 'halobuzz-ws' | 'halobuzz-log' | 'socketio' | 'uws-raw';

export interface Target {
  readonly name: TargetName;
  /** How load connections speak to it. */
  readonly protocol: 'msgpack' | 'socketio';
  readonly server: ServerHandle;
  readonly label: string;
  /** How it was started: `startTarget(name, options)` starts a fresh twin. */
  readonly options: TargetOptions;
}

const UNLIMITED = '100000';

/** HaloBuzz with its limits raised: benches measure capacity, not the abuse limits. */
export const HALOBUZZ_BENCH_ENV: Record<string, string> = {
  HALOBUZZ_CHAT_PER_SECOND: UNLIMITED, HALOBUZZ_CHAT_BURST: UNLIMITED,
  HALOBUZZ_USER_CHAT_PER_SECOND: UNLIMITED, HALOBUZZ_USER_CHAT_BURST: UNLIMITED,
  HALOBUZZ_FRAMES_PER_SECOND: UNLIMITED, HALOBUZZ_FRAMES_BURST: UNLIMITED,
  HALOBUZZ_JOIN_PER_SECOND: UNLIMITED, HALOBUZZ_JOIN_BURST: UNLIMITED,
  HALOBUZZ_GIFT_PER_SECOND: UNLIMITED, HALOBUZZ_GIFT_BURST: UNLIMITED,
  HALOBUZZ_MAILBOX_CAPACITY: '100000', HALOBUZZ_DEBUG_ENDPOINTS: '1',
  HALOBUZZ_MAX_ROOMS_PER_CONNECTION: '64',
};

export interface TargetOptions {
  readonly workers: number;
  readonly env?: Record<string, string>;
  /** Command that runs node (flags, preloads): [command, ...args]; the server script is appended. */
  readonly launcher?: readonly string[];
}

export async function startTarget(name: TargetName, opts: TargetOptions): Promise<Target> {
  switch (name) {
    case 'halobuzz':
    case 'halobuzz-ws':
    case 'halobuzz-log': {
      // `halobuzz` runs the default transport (uWS where its native binding loads) with direct routing;
      // `halobuzz-ws` forces ws; `halobuzz-log` routes one node through the in-process log.
      const variant: Record<string, string> = name === 'halobuzz-ws' ? { HALOBUZZ_TRANSPORT: 'ws' } : name === 'halobuzz-log' ? { HALOBUZZ_ONE_NODE_ROUTING: 'log' } : {};
      const server = await startServer({ ...HALOBUZZ_BENCH_ENV, HALOBUZZ_WORKERS: String(opts.workers), ...variant, ...opts.env }, undefined, undefined, opts.launcher);
      const { transport } = (await (await fetch(`${server.http}/health`)).json()) as { transport: string };
      return { name, protocol: 'msgpack', server, options: opts, label: `HaloBuzz on ${transport}${name === 'halobuzz-log' ? ', routed through the log' : ''} (${opts.workers} workers)` };
    }
    case 'socketio': {
      const redis = process.env.REDIS_URL;
      const server = await startServer(redis ? { REDIS_URL: redis } : {}, undefined, join(__dirname, 'baseline', 'socketio-server.js'), opts.launcher);
      return { name, protocol: 'socketio', server, options: opts, label: redis ? 'Socket.IO 4.8 + Redis adapter' : 'Socket.IO 4.8 (no Redis: REDIS_URL unset)' };
    }
    case 'uws-raw': {
      const server = await startServer({}, undefined, join(__dirname, 'ceiling', 'uws-server.js'), opts.launcher);
      return { name, protocol: 'msgpack', server, options: opts, label: 'raw uWS pub/sub (ceiling)' };
    }
  }
}
