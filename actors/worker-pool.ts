/**
 * WorkerPool: the supervisor of the actor workers, on the main thread. It routes each command to the
 * worker that owns its shard, batches commands per worker per event-loop turn, and restarts a worker that
 * dies, within a restart budget. While a worker is down its commands wait in its outbox; when it is back
 * the core re-attaches the connections it held (see onRestarted) before those commands are delivered.
 */
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { BatchCodec } from './batch-codec';
import { ShardMap } from './sharding';
import { commandTarget, type Command, type Effect, type WorkerStatus } from './messages';
import type { WorkerInit } from './worker-main';

export interface WorkerPoolOptions {
  readonly workers: number;
  readonly shards: number;
  readonly init: Omit<WorkerInit, 'index'>;
  readonly restartBudget: number;
  readonly restartWindowMs: number;
}

export interface WorkerPoolHandlers {
  onEffects(effects: Effect[]): void;
  /** A worker came back after a crash; `index` is its slot. Return the re-attach commands for it. */
  onRestarted(index: number): Command[];
  onStats(stats: Extract<WorkerStatus, { type: 'stats' }>): void;
  onCrash(index: number, code: number): void;
  /** The restart budget is spent: the process should exit and let its own supervisor restart it. */
  onBudgetExhausted(index: number): void;
}

interface Slot {
  index: number;
  worker: Worker | null;
  ready: boolean;
  outbox: Command[];
  restarts: number[];
  drained: (() => void) | null;
}

export class WorkerPool {
  readonly shardMap: ShardMap;
  private readonly slots: Slot[];
  private readonly codec = new BatchCodec();
  private flushScheduled = false;
  private stopping = false;
  private readyWaiters: (() => void)[] = [];

  constructor(private readonly opts: WorkerPoolOptions, private readonly handlers: WorkerPoolHandlers) {
    this.shardMap = new ShardMap(opts.shards, opts.workers);
    this.slots = Array.from({ length: opts.workers }, (_, index) => ({ index, worker: null, ready: false, outbox: [], restarts: [], drained: null }));
  }

  async start(): Promise<void> {
    for (const slot of this.slots) this.spawn(slot);
    await new Promise<void>((resolve) => {
      this.readyWaiters.push(resolve);
      this.checkAllReady();
    });
  }

  get allReady(): boolean {
    return this.slots.every((s) => s.ready);
  }

  workerOf(kind: 'room' | 'user', id: string): number {
    return this.shardMap.workerOf(kind, id);
  }

  send(command: Command): void {
    const t = commandTarget(command);
    const slot = this.slots[this.shardMap.workerOf(t.kind, t.id)]!;
    slot.outbox.push(command);
    this.scheduleFlush();
  }

  /** Test hook: makes worker `index` throw an uncaught error. */
  crash(index: number): boolean {
    const slot = this.slots[index];
    if (!slot?.worker) return false;
    slot.worker.postMessage({ type: 'crash' });
    return true;
  }

  /** Flushes outboxes, asks every worker to finish its mailboxes and commits, then stops them. */
  async drain(timeoutMs: number): Promise<void> {
    this.flush();
    this.stopping = true;
    const waits = this.slots.map((slot) => new Promise<void>((resolve) => {
      if (!slot.worker) return resolve();
      slot.drained = resolve;
      slot.worker.postMessage({ type: 'drain' });
    }));
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
    await Promise.race([Promise.all(waits), timeout]);
    await Promise.all(this.slots.map((s) => s.worker?.terminate()));
  }

  private spawn(slot: Slot): void {
    const init: WorkerInit = { ...this.opts.init, index: slot.index };
    const worker = new Worker(join(__dirname, 'worker-main.js'), { workerData: init });
    slot.worker = worker;
    slot.ready = false;
    worker.on('message', (msg: Uint8Array | WorkerStatus) => {
      if (msg instanceof Uint8Array) {
        this.handlers.onEffects(this.codec.decode(msg) as Effect[]);
        return;
      }
      switch (msg.type) {
        case 'ready':
          this.onReady(slot);
          return;
        case 'stats':
          this.handlers.onStats(msg);
          return;
        case 'drained':
          slot.drained?.();
          return;
      }
    });
    worker.on('error', () => {
      // 'exit' follows; the error itself was printed by the worker.
    });
    worker.on('exit', (code) => {
      if (slot.worker !== worker) return;
      slot.worker = null;
      slot.ready = false;
      if (this.stopping) return;
      this.handlers.onCrash(slot.index, code);
      const now = Date.now();
      slot.restarts = slot.restarts.filter((t) => now - t < this.opts.restartWindowMs);
      if (slot.restarts.length >= this.opts.restartBudget) {
        this.handlers.onBudgetExhausted(slot.index);
        return;
      }
      slot.restarts.push(now);
      this.spawn(slot);
    });
  }

  private onReady(slot: Slot): void {
    const recovering = slot.restarts.length > 0;
    slot.ready = true;
    if (recovering) {
      const reattach = this.handlers.onRestarted(slot.index);
      if (reattach.length > 0) {
        const batch = this.codec.encode(reattach);
        slot.worker!.postMessage({ type: 'system', batch }, [batch.buffer]);
      }
    }
    this.scheduleFlush();
    this.checkAllReady();
  }

  private checkAllReady(): void {
    if (!this.allReady) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.flushScheduled = false;
    for (const slot of this.slots) {
      if (!slot.ready || !slot.worker || slot.outbox.length === 0) continue;
      const batch = this.codec.encode(slot.outbox);
      slot.outbox = [];
      slot.worker.postMessage(batch, [batch.buffer]);
    }
  }
}
