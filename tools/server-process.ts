/**
 * Starts the real server (dist/main.js) as a child process on a free port with its own data folder, and
 * gives tests its URL, a token signer, and ways to stop it gracefully or kill it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signAccessToken } from '../core/auth/jwt';
import { HaloClient, type ClientOptions } from '../sdk/client';
import { nodeWebSocket } from '../sdk/node';

export const TEST_SECRET = 'test-secret-0123456789-0123456789-abcdef';

/** CPU seconds spent in user space and in the kernel on a process's behalf. */
export interface CpuTimes { readonly user: number; readonly system: number }

/** CPU times of process `pid` (all its threads) so far, from /proc (Linux). */
export function processCpuTimes(pid: number): CpuTimes {
  // Fields 14 and 15 of /proc/<pid>/stat: user and system clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

export interface ServerHandle {
  readonly port: number;
  readonly url: string;
  readonly http: string;
  /** Base URL of the HTTP API (HaloBuzz server only; empty for other scripts). */
  readonly api: string;
  readonly dataDir: string;
  /** The variables given to startServer (the engines it was pointed at). */
  readonly env: Readonly<Record<string, string>>;
  readonly child: ChildProcess;
  readonly logs: string[];
  token(user: string, ttlSec?: number, sid?: string): string;
  client(user: string, extra?: Partial<ClientOptions>): HaloClient;
  /** Resident set size of the server process, from /proc (Linux). */
  rssBytes(): number;
  /** CPU seconds the server process (all its threads) has used so far, from /proc (Linux). */
  cpuSeconds(): number;
  /** The same, split into user space and kernel (system) seconds. */
  cpuTimes(): CpuTimes;
  /** Sends SIGTERM and waits for exit. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

/**
 * Starts `script` (default: the HaloBuzz server) with PORT 0; the script must log a JSON line with
 * `"event":"listening"` and `"port":N` on stdout.
 */
export async function startServer(env: Record<string, string> = {}, reuseDataDir?: string, script = join(__dirname, '..', 'main.js'),
  /** Command that runs node, e.g. a profiler: [command, ...args]; the script path is appended. */
  launcher: readonly string[] = [process.execPath]): Promise<ServerHandle> {
  const dataDir = reuseDataDir ?? mkdtempSync(join(tmpdir(), 'hb-e2e-'));
  const logs: string[] = [];
  const child = spawn(launcher[0]!, [...launcher.slice(1), script], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      HALOBUZZ_PORT: '0',
      HALOBUZZ_API_PORT: '0',
      PORT: '0',
      HALOBUZZ_DATA_DIR: dataDir,
      HALOBUZZ_JWT_SECRET: TEST_SECRET,
      HALOBUZZ_ENV: 'test',
      HALOBUZZ_LOG_LEVEL: 'info',
      HALOBUZZ_WORKERS: '2',
      HALOBUZZ_PRESENCE_INTERVAL_MS: '100',
      // `HALOBUZZ_TRANSPORT=ws npm test` runs every end-to-end suite on the ws transport.
      ...(process.env.HALOBUZZ_TRANSPORT ? { HALOBUZZ_TRANSPORT: process.env.HALOBUZZ_TRANSPORT } : {}),
      // `HALOBUZZ_ONE_NODE_ROUTING=log npm test -- e2e` runs single-node suites through the cluster's path.
      ...(process.env.HALOBUZZ_ONE_NODE_ROUTING ? { HALOBUZZ_ONE_NODE_ROUTING: process.env.HALOBUZZ_ONE_NODE_ROUTING } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const isHaloBuzz = script.endsWith(join('dist', 'main.js')) || script === join(__dirname, '..', 'main.js');
  let apiPort = 0;
  const port = await new Promise<number>((resolve, reject) => {
    // Generous: a cold start takes ~2 s alone, but CI shares two cores with the engines and another test
    // file. A server that does not come up is killed, so its pipes cannot keep the test file alive.
    const startBoundMs = launcher.length > 1 ? 300_000 : 90_000;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${startBoundMs / 1000} s:\n${logs.join('')}`));
    }, startBoundMs);
    let wsPort = 0;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      logs.push(text);
      const ws = /"event":"listening".*?"port":(\d+)/.exec(text);
      if (ws) wsPort = Number(ws[1]);
      const api = /"event":"api-listening".*?"port":(\d+)/.exec(text);
      if (api) apiPort = Number(api[1]);
      const role = env.HALOBUZZ_ROLE ?? 'all';
      const done = !isHaloBuzz ? wsPort > 0 : role === 'api' ? apiPort > 0 : role === 'realtime' ? wsPort > 0 : wsPort > 0 && apiPort > 0;
      if (done) {
        clearTimeout(timer);
        resolve(wsPort);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${logs.join('')}`));
    });
  });
  const url = port ? `ws://127.0.0.1:${port}/ws` : '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const clients: HaloClient[] = [];
  const handle: ServerHandle = {
    port,
    url,
    http: `http://127.0.0.1:${port}`,
    api: apiPort ? `http://127.0.0.1:${apiPort}` : '',
    dataDir,
    env: { ...env },
    child,
    logs,
    token: (user, ttlSec = 3600, sid) => signAccessToken({ sub: user, ttlSec, issuer: 'halobuzz', audience: 'halobuzz-realtime', ...(sid ? { sid } : {}) }, TEST_SECRET),
    client: (user, extra = {}) => {
      const c = new HaloClient({ url, token: () => handle.token(user), webSocket: nodeWebSocket, requestTimeoutMs: 5000, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500, ...extra });
      clients.push(c);
      return c;
    },
    rssBytes: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    cpuSeconds: () => {
      const { user, system } = processCpuTimes(child.pid!);
      return user + system;
    },
    cpuTimes: () => processCpuTimes(child.pid!),
    stop: async () => {
      for (const c of clients) c.close();
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      if (!reuseDataDir) rmSync(dataDir, { recursive: true, force: true });
      return code;
    },
    kill: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
  return handle;
}

/** Resolves when `predicate` holds, polling every 10 ms; rejects after `timeoutMs` naming `what`. */
export async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
