/**
 * ActorHost runs the actors of one worker: it creates actors on first use (rebuilding them from the
 * store), delivers commands to their mailboxes, runs them in turns with a per-actor throughput cap, and
 * commits each turn's writes before releasing that turn's effects. Commits are chained, so effects leave
 * in the order their turns ran. It knows nothing about threads, which keeps it testable in-process.
 */
import { Actor, type Turn } from './actor';
import { Eff, commandTarget, connOf, eff, isDisconnect, readCommand, refOf, type BroadcastCommand, type Command, type Effect } from './messages';
import { partitionOf } from '../common/hash';
import { RoomActor, type RoomActorDeps, type RoomActorOptions } from './room-actor';
import { UserActor, type UserActorOptions } from './user-actor';
import type { GiftCatalog } from '../economy/gift-catalog';
import { nodeOwnerTag, type Ledger } from '../adapters/ledger/ledger';
import { emptyBatch, isBatchEmpty, type RealtimeStore, type WriteBatch } from '../adapters/store/realtime-store';
import { ErrorCode } from '../protocol/codes';
import { errorFrame } from '../protocol/codec';

export interface ActorHostOptions {
  readonly room: RoomActorOptions;
  readonly user: UserActorOptions;
  readonly throughputPerTurn: number;
  readonly presenceIntervalMs: number;
  /** Idle actors (no members, no connections, empty mailbox) are dropped after this long. */
  readonly passivateAfterMs: number;
  /**
   * Cluster: mark which actor each run of effects comes from (Eff.ORIGIN), and which nodes hold a room's
   * members at each broadcast, so the node can route them.
   */
  readonly tagOrigins?: boolean;
}

export interface ActorHostDeps {
  readonly store: RealtimeStore;
  readonly ledger: Ledger;
  readonly catalog: GiftCatalog;
  /** The games' config and play guard (config null: games off). */
  readonly games?: RoomActorDeps['games'];
  readonly filter?: RoomActorDeps['filter'];
  readonly follows?: RoomActorDeps['follows'];
  readonly onFilter?: RoomActorDeps['onFilter'];
}

class TurnBuffer implements Turn {
  readonly writes: WriteBatch = emptyBatch();
  readonly effects: Effect[] = [];
  /** The actor whose receive is running; set by the host before each message. */
  actor: Actor<unknown> | null = null;
  private tagged: Actor<unknown> | null = null;
  constructor(
    readonly now: number,
    private readonly onDefer: (actor: Actor<unknown>, work: Promise<unknown>, toMessage: (r: unknown) => unknown) => void,
    private readonly tagOrigins: boolean,
  ) {}
  emit(effect: Effect): void {
    if (this.tagOrigins && this.actor !== this.tagged && this.actor !== null) {
      this.tagged = this.actor;
      this.effects.push(eff.origin(this.actor instanceof RoomActor ? 'room' : 'user', this.actor.id));
    }
    // Cluster: a broadcast carries the nodes with members at this moment, so it reaches only them (a member
    // joining later in the turn is subscribed after it, as on one node).
    if (this.tagOrigins && effect[0] === Eff.PUBLISH && this.actor instanceof RoomActor) this.effects.push([Eff.PUBLISH, effect[1], effect[2], this.actor.memberNodes()]);
    else this.effects.push(effect);
  }
  defer<T>(work: Promise<T>, toMessage: (result: T | Error) => unknown): void {
    this.onDefer(this.actor!, work, toMessage as (r: unknown) => unknown);
  }
}

export class ActorHost {
  private readonly rooms = new Map<string, RoomActor>();
  private readonly users = new Map<string, UserActor>();
  private runQueue: Actor<unknown>[] = [];
  private turnScheduled = false;
  private commitChain: Promise<void> = Promise.resolve();
  private pendingLoads = 0;
  private pendingDeferred = 0;
  private overflowEffects: Effect[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  dropped = 0;
  private stopped = false;
  /** Cluster: nodes purged as dead; their connections never re-enter a room on this worker. */
  private readonly deadNodes = new Set<number>();

  private readonly store: RealtimeStore;

  constructor(
    private readonly deps: ActorHostDeps,
    private readonly opts: ActorHostOptions,
    private readonly sink: (effects: Effect[]) => void,
    private readonly onFatal: (error: unknown) => void,
    /** Async work an actor deferred failed (its actor still gets the Error as a message). */
    private readonly onDeferredError: (error: Error) => void = () => undefined,
    /** The turns' clock (tests move it to pass mutes, bans and slow mode). */
    private readonly now: () => number = Date.now,
  ) {
    this.store = deps.store;
  }

  start(): void {
    this.timers.push(setInterval(() => this.presenceTurn(), this.opts.presenceIntervalMs));
    this.timers.push(setInterval(() => this.passivate(), Math.max(1000, Math.floor(this.opts.passivateAfterMs / 2))));
    for (const t of this.timers) t.unref();
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
  }

  /** Delivers commands in order. `system` marks recovery re-attachments, which drain first. */
  dispatch(commands: readonly Command[], system = false): void {
    for (const command of commands) {
      const target = commandTarget(command);
      const actor = (target.kind === 'room' ? this.roomActor(target.id) : this.userActor(target.id)) as Actor<unknown>;
      if (system) {
        actor.mailbox.offerSystem(command);
      } else if (isDisconnect(command)) {
        // Never refused (dropping one would leave a ghost viewer) and never reordered ahead of the same
        // connection's earlier join.
        if (!actor.mailbox.offer(command)) actor.mailbox.force(command);
      } else if (!actor.mailbox.offer(command)) {
        this.dropped++;
        const ref = refOf(command);
        if (ref) this.overflowEffects.push(eff.send(connOf(command), errorFrame(ref, ErrorCode.OVERLOADED, 'the room or user is overloaded, retry later')));
        continue;
      }
      this.schedule(actor);
    }
    if (this.overflowEffects.length > 0) this.scheduleTurn();
  }

  /** A command for every actor this worker holds (a dead node's connections to forget). */
  broadcast(command: BroadcastCommand): void {
    const c = readCommand(command);
    if (c.kind === 'purgeNode') {
      this.deadNodes.add(c.node);
      // Its unfinished money operations are anyone's now: a retry here finishes its own at once.
      this.deps.ledger.ownerGone?.(nodeOwnerTag(c.node));
    }
    for (const actor of [...this.rooms.values(), ...this.users.values()] as Actor<unknown>[]) {
      actor.mailbox.offerSystem(command);
      this.schedule(actor);
    }
  }

  /**
   * Forgets the actors whose ids fall in `partitions` (of `count`): this node no longer owns them, or
   * just gained them and must rebuild them from the store rather than trust what it held before.
   */
  evict(kind: 'room' | 'user', partitions: readonly number[], count: number): void {
    const wanted = new Set(partitions);
    const map = (kind === 'room' ? this.rooms : this.users) as Map<string, Actor<unknown>>;
    for (const id of [...map.keys()]) if (wanted.has(partitionOf(id, count))) map.delete(id);
  }

  /** Resolves once every mailbox is empty and every commit has landed. */
  async drain(): Promise<void> {
    for (;;) {
      await this.commitChain;
      await new Promise((r) => setImmediate(r));
      if (this.runQueue.length === 0 && !this.turnScheduled && this.pendingLoads === 0 && this.pendingDeferred === 0) {
        await this.commitChain;
        return;
      }
    }
  }

  stats(): { rooms: number; users: number; mailboxDepth: number; dropped: number } {
    let depth = 0;
    for (const a of this.rooms.values()) depth += a.mailbox.depth;
    for (const a of this.users.values()) depth += a.mailbox.depth;
    return { rooms: this.rooms.size, users: this.users.size, mailboxDepth: depth, dropped: this.dropped };
  }

  private roomActor(id: string): RoomActor {
    let actor = this.rooms.get(id);
    if (!actor) {
      const created = new RoomActor(id, this.opts.room, {
        ledger: this.deps.ledger, catalog: this.deps.catalog, isNodeDead: (n) => this.deadNodes.has(n), ...(this.deps.games ? { games: this.deps.games } : {}),
        ...(this.deps.filter ? { filter: this.deps.filter } : {}), ...(this.deps.follows ? { follows: this.deps.follows } : {}),
        ...(this.deps.onFilter ? { onFilter: this.deps.onFilter } : {}),
      });
      actor = created;
      this.rooms.set(id, created);
      this.load(created as Actor<unknown>, async () => {
        const snapshot = await this.store.loadRoom(id, this.opts.room.historyLimit);
        const gifts = snapshot.stream === null ? [] : await this.deps.ledger.giftsForStream(id, snapshot.stream);
        await created.restore(snapshot, gifts);
      });
    }
    return actor;
  }

  private userActor(id: string): UserActor {
    let actor = this.users.get(id);
    if (!actor) {
      const created = new UserActor(id, this.opts.user, this.deps.ledger);
      actor = created;
      this.users.set(id, created);
      this.load(created as Actor<unknown>, () => this.store.loadInbox(id, this.opts.user.maxPendingInbox).then((s) => created.restore(s)));
    }
    return actor;
  }

  /** Loads run after every commit issued so far, so a rebuilt actor sees its predecessor's writes. */
  private load(actor: Actor<unknown>, run: () => Promise<void>): void {
    this.pendingLoads++;
    this.commitChain
      .then(run)
      .then(() => {
        this.pendingLoads--;
        actor.scheduled = false;
        this.schedule(actor);
      })
      .catch((err) => this.onFatal(err));
  }

  private defer(actor: Actor<unknown>, work: Promise<unknown>, toMessage: (r: unknown) => unknown): void {
    this.pendingDeferred++;
    work
      .then((value) => value, (err: unknown) => {
        const error = err instanceof Error ? err : new Error(String(err));
        this.onDeferredError(error);
        return error;
      })
      .then((result) => {
        this.pendingDeferred--;
        actor.mailbox.offerSystem(toMessage(result));
        this.schedule(actor);
      });
  }

  private schedule(actor: Actor<unknown>): void {
    if (!actor.ready || actor.scheduled || actor.mailbox.depth === 0) return;
    actor.scheduled = true;
    this.runQueue.push(actor);
    this.scheduleTurn();
  }

  private scheduleTurn(): void {
    if (this.turnScheduled || this.stopped) return;
    this.turnScheduled = true;
    setImmediate(() => this.runTurn());
  }

  private runTurn(): void {
    this.turnScheduled = false;
    const turn = this.newTurn();
    if (this.overflowEffects.length > 0) {
      turn.effects.push(...this.overflowEffects);
      this.overflowEffects = [];
    }
    const queue = this.runQueue;
    this.runQueue = [];
    const cap = this.opts.throughputPerTurn;
    for (const actor of queue) {
      actor.scheduled = false;
      actor.lastActive = turn.now;
      for (let n = 0; n < cap; n++) {
        const msg = actor.mailbox.take();
        if (msg === undefined) break;
        turn.actor = actor;
        actor.receive(msg, turn);
      }
      this.schedule(actor);
    }
    this.commit(turn);
  }

  private newTurn(): TurnBuffer {
    return new TurnBuffer(this.now(), (actor, work, toMessage) => this.defer(actor, work, toMessage), this.opts.tagOrigins === true);
  }

  private presenceTurn(): void {
    const turn = this.newTurn();
    for (const room of this.rooms.values()) {
      if (!room.ready) continue;
      turn.actor = room as Actor<unknown>;
      room.flushPresence(turn);
      room.tick(turn);
    }
    this.commit(turn);
  }

  private commit(turn: TurnBuffer): void {
    if (turn.effects.length === 0 && isBatchEmpty(turn.writes)) return;
    this.commitChain = this.commitChain
      .then(() => (isBatchEmpty(turn.writes) ? undefined : this.store.commit(turn.writes)))
      .then(() => {
        if (turn.effects.length > 0) this.sink(turn.effects);
      })
      .catch((err) => this.onFatal(err));
  }

  private passivate(): void {
    const cutoff = this.now() - this.opts.passivateAfterMs;
    for (const [id, a] of this.rooms) if (a.ready && !a.scheduled && a.isIdle() && !a.presenceDirty && a.lastActive < cutoff) this.rooms.delete(id);
    for (const [id, a] of this.users) if (a.ready && !a.scheduled && a.isIdle() && a.lastActive < cutoff) this.users.delete(id);
  }
}


