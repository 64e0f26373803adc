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
import { commandTarget, type BroadcastCommand, type Command, type Effect, type WorkerControl, type WorkerStatus } from './messages';
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
  private nextControlId = 1;
  /** Control requests waiting for every worker's `quiesced` answer. */
  private readonly awaiting = new Map<number, { left: Set<number>; done: () => void }>();

  /** Cluster: the tag this node's ledger operations carry (set before start; restarted workers keep it). */
  private ledgerOwnerTag: string | null = null;

  constructor(private readonly opts: WorkerPoolOptions, private readonly handlers: WorkerPoolHandlers) {
    this.shardMap = new ShardMap(opts.shards, opts.workers);
    this.slots = Array.from({ length: opts.workers }, (_, index) => ({ index, worker: null, ready: false, outbox: [], restarts: [], drained: null }));
  }

  /** Tags the workers' ledger operations with this node (see Ledger.ownerGone). Before start(). */
  tagLedger(tag: string): void {
    this.ledgerOwnerTag = tag;
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

  /**
   * Resolves once every worker has handled all commands sent so far, settled their deferred work and
   * handed over the resulting effects (which the handler received before this resolves).
   */
  quiesce(): Promise<void> {
    return this.control((id) => ({ type: 'quiesce', id }));
  }

  /** Drops the actors of these partitions on every worker, after all commands sent so far. */
  evict(kind: 'room' | 'user', partitions: number[], count: number): Promise<void> {
    return this.control((id) => ({ type: 'evict', id, kind, partitions, count }));
  }

  /** A command for every actor on every worker (a dead node's connections). */
  broadcast(command: BroadcastCommand): void {
    this.flush();
    for (const slot of this.slots) slot.worker?.postMessage({ type: 'broadcast', command } satisfies WorkerControl);
  }

  private control(make: (id: number) => WorkerControl): Promise<void> {
    this.flush();
    const id = this.nextControlId++;
    const live = this.slots.filter((s) => s.worker && s.ready);
    if (live.length === 0) return Promise.resolve();
    return new Promise<void>((done) => {
      this.awaiting.set(id, { left: new Set(live.map((s) => s.index)), done });
      for (const slot of live) slot.worker!.postMessage(make(id));
    });
  }

  private answered(worker: number, id: number): void {
    const wait = this.awaiting.get(id);
    if (!wait) return;
    wait.left.delete(worker);
    if (wait.left.size === 0) {
      this.awaiting.delete(id);
      wait.done();
    }
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
    const tagged = this.ledgerOwnerTag ? { ledger: { ...this.opts.init.ledger, ownerTag: this.ledgerOwnerTag } } : {};
    const init: WorkerInit = { ...this.opts.init, ...tagged, index: slot.index };
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
        case 'quiesced':
          this.answered(msg.worker, msg.id);
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
      // A dead worker answers no control request; the commands it held are gone with it.
      for (const id of [...this.awaiting.keys()]) this.answered(slot.index, id);
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
