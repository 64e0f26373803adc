/**
 * The compiled viewers (bench/loadgen, Go): builds the program, starts it with the viewers' tokens, and
 * reads what it counts. The Node load client costs about twice the server's CPU per received message, so
 * with it the generator, not the server, sets the pace; the compiled viewers cost a few µs per message.
 * One core (GOMAXPROCS=1), so its core share means what the Node generator's does.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const SOURCE = join(__dirname, '..', '..', 'bench', 'loadgen');

/** Builds the generator (Go's build cache makes a rebuild of unchanged sources quick) and returns its path. */
export function buildLoadgen(): string {
  const dir = join(process.env.HALOBUZZ_CACHE_DIR ?? join(homedir(), '.cache', 'halobuzz'), 'loadgen');
  mkdirSync(dir, { recursive: true });
  const binary = join(dir, 'halobuzz-loadgen');
  try {
    execFileSync('go', ['build', '-o', binary, '.'], { cwd: SOURCE, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') throw new Error('the compiled load generator needs Go (https://go.dev); run with --compiled 0 for the Node viewers');
    throw new Error(`building bench/loadgen failed: ${e.stderr?.toString() ?? e.message}`);
  }
  return binary;
}

export interface CompiledViewersOptions {
  readonly protocol: 'msgpack' | 'socketio';
  /** The server's WebSocket URL for its protocol. */
  readonly url: string;
  readonly room: string;
  /** Above 1: viewer i joins `${room}${i % roomCount}` (many rooms); else every viewer joins `room`. */
  readonly roomCount?: number;
  readonly tokens: readonly string[];
  /** Local address per viewer (loopback aliases past the ephemeral port range). */
  readonly sources: readonly string[];
  readonly onProgress?: (connected: number) => void;
}

export interface Snapshot { readonly received: number; readonly cpuSeconds: number; readonly latencies: Float32Array }

interface Line { event: string; connected?: number; received?: number; cpuUs?: number; samples?: number; message?: string }

export class CompiledViewers {
  private receivedCount = 0;
  private cpuUs = 0;
  /** The latest line of each event (several can arrive in one chunk, before a waiter runs again). */
  private readonly latest = new Map<string, Line>();
  private waiters: (() => void)[] = [];

  private constructor(private readonly child: ChildProcess, private readonly latencyFile: string) {}

  /** Starts the generator and resolves once every viewer has joined the room. */
  static async start(opts: CompiledViewersOptions): Promise<CompiledViewers> {
    const latencyFile = join(tmpdir(), `halobuzz-loadgen-${process.pid}-${Date.now()}.f32`);
    const child = spawn(buildLoadgen(), [], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, GOMAXPROCS: '1' } });
    const viewers = new CompiledViewers(child, latencyFile);
    createInterface({ input: child.stdout! }).on('line', (text) => viewers.onLine(text, opts.onProgress));
    // 'close', not 'exit': it comes after stdout ended, so the generator's last line (its reason for
    // stopping, such as a refused hello) is read before the exit is reported.
    child.on('close', (code) => viewers.onLine(JSON.stringify({ event: 'exit', message: `exited with ${code}` })));
    child.stdin!.write(`${JSON.stringify({ protocol: opts.protocol, url: opts.url, room: opts.room, roomCount: opts.roomCount ?? 1, tokens: opts.tokens, sources: opts.sources, latencyFile, concurrency: 64 })}\n`);
    const ready = await viewers.next('ready');
    if (ready.connected !== opts.tokens.length) throw new Error(`the load generator connected ${ready.connected} of ${opts.tokens.length} viewers`);
    return viewers;
  }

  /** Chats received by every viewer so far (updated every 100 ms). */
  received(): number {
    return this.receivedCount;
  }

  /** CPU seconds the generator has used so far (user and system, every thread). */
  cpuSeconds(): number {
    return this.cpuUs / 1e6;
  }

  /** The latency samples (ms) since the previous cut, with the count and CPU now; the viewers stay open. */
  cut(): Promise<Snapshot> {
    return this.ask('cut');
  }

  /** Closes the viewers; resolves with the final count and the samples since the last cut. */
  stop(): Promise<Snapshot> {
    return this.ask('stop', 'done');
  }

  private async ask(command: string, answer = command): Promise<Snapshot> {
    this.latest.delete(answer);
    this.child.stdin!.write(`${command}\n`);
    const line = await this.next(answer);
    const bytes = readFileSync(this.latencyFile);
    if (answer === 'done') rmSync(this.latencyFile, { force: true });
    const latencies = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    return { received: line.received ?? 0, cpuSeconds: (line.cpuUs ?? 0) / 1e6, latencies };
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  private onLine(text: string, onProgress?: (connected: number) => void): void {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      return;
    }
    if (line.cpuUs !== undefined) this.cpuUs = line.cpuUs;
    if (line.received !== undefined) this.receivedCount = line.received;
    if (line.event === 'progress' && line.connected !== undefined) onProgress?.(line.connected);
    this.latest.set(line.event, line);
    for (const w of this.waiters.splice(0)) w();
  }

  private async next(event: string): Promise<Line> {
    for (;;) {
      const line = this.latest.get(event);
      if (line) return line;
      const failed = this.latest.get('error') ?? this.latest.get('exit');
      if (failed) throw new Error(`load generator: ${failed.message}`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}
