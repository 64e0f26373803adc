/**
 * ClusterRouter: how a node takes part in a cluster over the EventBus (see docs/cluster.md).
 *
 * - Every room command goes to `<prefix>.room-commands`, every user command to `<prefix>.user-commands`,
 *   in the partition of its room or user. The consumer group of all nodes divides those partitions, so the
 *   bus decides which node owns (runs the actor of) each room and user.
 * - The owner runs the command in its local actor workers, stamped with its log position. The actor's
 *   effects (broadcasts, replies, subscriptions) of one turn become one record, published to
 *   `<prefix>.node-events` once per node that needs it: the nodes of the connections it addresses, and for
 *   a broadcast the nodes holding the room's members (the actor says which). Each node reads only its own
 *   partition of that topic (its node number modulo the partition count), so its event load follows its
 *   own viewers, not the whole cluster's traffic; it applies its connections' effects and the broadcasts.
 *   A room's records reach each node in the order its turns ran (one partition per node, one producer per
 *   owner, one request in flight).
 * - A command batch's offsets are committed only after the workers went quiet and the effects are in the
 *   log, so a dead owner leaves uncommitted commands to the next owner, which skips what the store shows as
 *   applied (positions) and re-runs the rest. The next batch is handed over meanwhile (pipelined).
 * - On gaining a partition the owner drops what it held for it, and publishes REATTACH to every node's
 *   partition (it cannot know yet where the members are): every node then re-joins its connections in those
 *   rooms (users), and each gets a resync to fetch what it missed.
 */
import type { Logger } from 'pino';
import { Cmd, Eff, analyticsOf, commandTarget, connOf, eff, isCommand, nodeOfConn, readCommand, refOf, withPosition, type ActorAnalyticsEvent, type BroadcastCommand, type Command, type Effect } from '../../actors/messages';
import { partitionOf } from '../../common/hash';
import { encode, errorFrame } from '../../protocol/codec';
import { decodeInternal as decode } from '../../common/internal-codec';
import { ErrorCode } from '../../protocol/codes';
import type { BatchHandling, BusRecord, BusSubscription, ConsumedBatch, EventBus } from '../../adapters/bus/event-bus';

const RECORD_EFFECTS = 1;
const RECORD_REATTACH = 2;
/**
 * Batches of one partition handed to the workers and not yet done. Two let the bus fetch the next batch
 * while one works (the fetch was a third to a half of each batch's cycle in bench/cluster); more would
 * only queue in the workers' mailboxes.
 */
const MAX_BATCHES_IN_FLIGHT = 2;

/** The local actor workers, as the router uses them. */
export interface LocalActors {
  send(command: Command): void;
  quiesce(): Promise<void>;
  evict(kind: 'room' | 'user', partitions: number[], count: number): Promise<void>;
  broadcast(command: BroadcastCommand): void;
}

/** This node's sockets, as the router uses them. */
export interface LocalSockets {
  applyEffects(effects: readonly Effect[]): void;
  /** Commands that put this node's connections back into the actors for which `select` is true. */
  reattachCommands(select: (kind: 'room' | 'user', id: string) => boolean): Command[];
}

export interface ClusterRouterOptions {
  readonly topicPrefix: string;
  readonly partitions: number;
  /** Partitions of the node-events topic: node n reads partition n % nodePartitions. */
  readonly nodePartitions: number;
  readonly node: number;
  /** Commands waiting to be published before new ones are refused with OVERLOADED. */
  readonly maxQueued: number;
  /** Cluster-wide chat limit per user; null: local limits only. */
  readonly takeChat: ((users: readonly string[]) => Promise<boolean[]>) | null;
  /** Analytics events of one effect batch, recorded (durably) before the batch's replies go to the log. */
  readonly onAnalytics: (events: ActorAnalyticsEvent[]) => void;
  readonly log: Logger;
  readonly count: (what: ClusterCount, n?: number) => void;
}

/** What the router counts (halobuzz_cluster_total{what}). */
export type ClusterCount =
  | 'commands_published' | 'events_published' | 'events_received' | 'events_applied' | 'events_not_needed'
  | 'bad_records' | 'replayed_batches' | 'publish_failures';

type Queued = { topic: string; record: BusRecord; command?: Command };

export class ClusterRouter {
  readonly topics;
  private commandQueue: Queued[] = [];
  private eventQueue: Queued[] = [];
  private commandsFlushing: Promise<void> | null = null;
  private eventsChain: Promise<void> = Promise.resolve();
  private eventsScheduled = false;
  private owned = new Map<string, Set<number>>();
  /** Partitions gained by the latest assignment whose REATTACH is not yet out. */
  private readonly toPrepare = new Set<string>();
  /** Per partition: the hand-over of its latest batch (the next one waits for it, keeping log order). */
  private readonly handing = new Map<string, Promise<void>>();
  /** Per partition: batches handed over and not yet done. */
  private readonly inFlight = new Map<string, Set<Promise<void>>>();
  /** Per partition: the first offset of a batch whose hand-over failed, until it comes again. */
  private readonly failedFrom = new Map<string, number>();
  private events: BusSubscription | null = null;
  private owners: BusSubscription | null = null;
  private stopped = false;

  constructor(private readonly bus: EventBus, private readonly actors: LocalActors, private readonly sockets: LocalSockets, private readonly opts: ClusterRouterOptions) {
    const p = opts.topicPrefix;
    this.topics = { roomCommands: `${p}.room-commands`, userCommands: `${p}.user-commands`, nodeEvents: `${p}.node-events` } as const;
  }

  /** The node-events partition node `node` reads. */
  static eventsPartitionOf(node: number, nodePartitions: number): number {
    return node % nodePartitions;
  }

  /** Creates the topics, starts reading this node's events, then joins the owners' group. */
  async start(): Promise<void> {
    const t = this.topics;
    await this.bus.ensureTopics([t.roomCommands, t.userCommands], this.opts.partitions);
    await this.bus.ensureTopics([t.nodeEvents], this.opts.nodePartitions);
    this.events = await this.bus.consumeAll([t.nodeEvents], (b) => this.onEvents(b), [ClusterRouter.eventsPartitionOf(this.opts.node, this.opts.nodePartitions)]);
    this.owners = await this.bus.consumeShared(`${this.opts.topicPrefix}.owners`, [t.roomCommands, t.userCommands], {
      onAssignment: (assigned) => this.onAssignment(assigned),
      onBatch: (b) => this.onCommands(b),
    });
  }

  /** Partitions this node owns now, by topic (for /ready and tests). */
  ownership(): Record<string, number[]> {
    return Object.fromEntries([...this.owned].map(([t, s]) => [t, [...s].sort((a, b) => a - b)]));
  }

  /** A command from one of this node's sessions (or the node itself): into the log of its room or user. */
  dispatch(command: Command): void {
    if (this.stopped) return;
    if (this.commandQueue.length >= this.opts.maxQueued) {
      const ref = refOf(command);
      if (ref) this.sockets.applyEffects([eff.send(connOf(command), errorFrame(ref, ErrorCode.OVERLOADED, 'the cluster log is not keeping up, retry later'))]);
      return;
    }
    const { kind, id } = commandTarget(command);
    this.commandQueue.push({
      topic: kind === 'room' ? this.topics.roomCommands : this.topics.userCommands,
      record: { partition: partitionOf(id, this.opts.partitions), value: encode(command) },
      command,
    });
    if (!this.commandsFlushing) this.commandsFlushing = this.flushCommands();
  }

  /**
   * Effects from the local workers: analytics stay here; each actor turn's run of effects becomes one
   * record, sent to the partition of every node that needs it (and to none when no node does: a broadcast
   * in a room without members).
   */
  routeEffects(effects: readonly Effect[]): void {
    let run: Effect[] = [];
    let nodes = new Set<number>();
    // A broadcast the worker did not stamp with its nodes (none should exist) goes to every node, as before interest routing.
    let everyNode = false;
    const close = () => {
      if (run.length > 0 && everyNode) {
        const value = encode([RECORD_EFFECTS, run, null]);
        for (let partition = 0; partition < this.opts.nodePartitions; partition++) this.eventQueue.push({ topic: this.topics.nodeEvents, record: { partition, value } });
      } else if (run.length > 0 && nodes.size > 0) {
        const to = [...nodes].sort((a, b) => a - b);
        const value = encode([RECORD_EFFECTS, run, to]);
        const partitions = new Set(to.map((n) => ClusterRouter.eventsPartitionOf(n, this.opts.nodePartitions)));
        for (const partition of partitions) this.eventQueue.push({ topic: this.topics.nodeEvents, record: { partition, value } });
      }
      run = [];
      nodes = new Set();
      everyNode = false;
    };
    const events = analyticsOf(effects);
    if (events) this.opts.onAnalytics(events);
    for (const e of effects) {
      switch (e[0]) {
        case Eff.ORIGIN:
          close();
          break;
        case Eff.ANALYTICS:
          break;
        case Eff.PUBLISH:
          // Kept on the effect too: a node the record reaches for a reply applies only the broadcasts it has members for.
          if (e[3] === undefined) everyNode = true;
          else for (const n of e[3]) nodes.add(n);
          run.push(e);
          break;
        default:
          nodes.add(nodeOfConn(e[1]));
          run.push(e);
      }
    }
    close();
    this.scheduleEvents();
  }

  /** Resolves when every effect handed over so far is in the log. */
  effectsDurable(): Promise<void> {
    this.scheduleEvents();
    return this.eventsChain;
  }

  /** A local worker restarted: every node re-joins its connections to everything this node owns. */
  async workerRestarted(): Promise<void> {
    const records: BusRecord[] = [];
    for (const [topic, parts] of this.owned) {
      const kind = topic === this.topics.roomCommands ? 'room' : 'user';
      for (const p of parts) records.push(...this.reattachRecords(kind, p));
    }
    await this.bus.publish([{ topic: this.topics.nodeEvents, records }]);
  }

  /** REATTACH for one partition of rooms or users, to every node's events partition. */
  private reattachRecords(kind: 'room' | 'user', partition: number): BusRecord[] {
    const value = encode([RECORD_REATTACH, kind, partition]);
    return Array.from({ length: this.opts.nodePartitions }, (_, p) => ({ partition: p, value }));
  }

  /**
   * Leaves the owners' group, so the partitions move now rather than after the session timeout, once the
   * effects of what this node applied are durable. Commands and events still flow (to the new owners).
   */
  async leaveOwners(): Promise<void> {
    await this.owners?.stop();
    this.owners = null;
    await this.effectsDurable().catch(() => undefined);
  }

  /** Hands over (if not yet), publishes the commands still queued, and stops reading events. */
  async stop(): Promise<void> {
    await this.leaveOwners();
    this.stopped = true;
    await this.commandsFlushing?.catch(() => undefined);
    await this.events?.stop();
  }

  private async flushCommands(): Promise<void> {
    while (this.commandQueue.length > 0) {
      await new Promise((r) => setImmediate(r));
      let batch = this.commandQueue;
      this.commandQueue = [];
      batch = await this.limitChat(batch);
      await this.publishInOrder(batch, 'commands_published', () => this.stopped);
    }
    this.commandsFlushing = null;
  }

  /** Refuses chats over the user's cluster-wide budget; everything else passes in order. */
  private async limitChat(batch: Queued[]): Promise<Queued[]> {
    const take = this.opts.takeChat;
    const chats = batch.filter((q) => q.command?.[0] === Cmd.CHAT);
    if (!take || chats.length === 0) return batch;
    let granted: boolean[];
    try {
      granted = await take(chats.map((q) => userOf(q.command!)));
    } catch (err) {
      // Redis down: fail open on chat (the per-node limits still apply) rather than stop the room.
      this.opts.log.warn({ err }, 'cluster chat limit unavailable; local limits only');
      return batch;
    }
    const refused = new Set(chats.filter((_, i) => !granted[i]));
    for (const q of refused) {
      const c = q.command!;
      this.sockets.applyEffects([eff.send(connOf(c), errorFrame(refOf(c), ErrorCode.RATE_LIMITED, 'too many chat messages from this user across the cluster'))]);
    }
    return refused.size === 0 ? batch : batch.filter((q) => !refused.has(q));
  }

  private scheduleEvents(): void {
    if (this.eventsScheduled || this.eventQueue.length === 0) return;
    this.eventsScheduled = true;
    this.eventsChain = this.eventsChain.then(async () => {
      this.eventsScheduled = false;
      const batch = this.eventQueue;
      this.eventQueue = [];
      await this.publishInOrder(batch, 'events_published', () => false);
    });
  }

  /**
   * Publishes one batch, retrying it until it is in the log (or `giveUp` says so): order matters more than
   * latency, so nothing queued behind it goes first.
   */
  private async publishInOrder(batch: readonly Queued[], what: 'commands_published' | 'events_published', giveUp: () => boolean): Promise<void> {
    for (;;) {
      try {
        await this.bus.publish(groupByTopic(batch));
        this.opts.count(what, batch.length);
        return;
      } catch (err) {
        this.opts.count('publish_failures');
        this.opts.log.warn({ err, records: batch.length, what }, 'publishing to the cluster log failed; retrying');
        await new Promise((r) => setTimeout(r, 500));
        if (giveUp()) return;
      }
    }
  }

  private onAssignment(assigned: ReadonlyMap<string, readonly number[]>): void {
    const next = new Map<string, Set<number>>([...assigned].map(([t, p]) => [t, new Set(p)]));
    for (const topic of [this.topics.roomCommands, this.topics.userCommands]) {
      const before = this.owned.get(topic) ?? new Set<number>();
      const after = next.get(topic) ?? new Set<number>();
      const lost = [...before].filter((p) => !after.has(p));
      const kind = topic === this.topics.roomCommands ? 'room' : 'user';
      if (lost.length > 0) void this.actors.evict(kind, lost, this.opts.partitions);
      for (const p of after) {
        if (before.has(p)) continue;
        const key = `${topic}/${p}`;
        this.toPrepare.add(key);
        // Also at once, not only on the partition's next command: a room with a running game has deadlines
        // to keep (a wheel round to settle) even when nobody sends anything; the re-join rebuilds it here.
        // Best effort and never awaited by the command path (which prepares itself if this has not yet), so
        // a publish stuck while the broker recovers holds nothing up.
        setImmediate(() => {
          if (!this.toPrepare.has(key)) return;
          this.prepare(topic, p).catch((err) => this.opts.log.warn({ err, topic, partition: p }, 'preparing a gained partition failed; done again on its next command'));
        });
      }
    }
    this.owned = next;
    this.opts.log.info({ event: 'cluster-assignment', owned: this.ownership() }, 'partition ownership changed');
  }

  /** Newly ours: forget anything held from an earlier ownership, then ask every node to re-join (twice is harmless). */
  private async prepare(topic: string, partition: number): Promise<void> {
    const room = topic === this.topics.roomCommands;
    await this.actors.evict(room ? 'room' : 'user', [partition], this.opts.partitions);
    await this.bus.publish([{ topic: this.topics.nodeEvents, records: this.reattachRecords(room ? 'room' : 'user', partition) }]);
    this.toPrepare.delete(`${topic}/${partition}`);
    this.opts.count('replayed_batches');
  }

  /**
   * A batch of commands: handed to the workers in log order (after any earlier batch of the partition), and
   * done once the workers went quiet after it and its effects are in the log. The bus fetches the next
   * batch meanwhile; at most MAX_BATCHES_IN_FLIGHT per partition are handed over and not yet done.
   */
  private onCommands(batch: ConsumedBatch): BatchHandling {
    const key = `${batch.topic}/${batch.partition}`;
    let finished: () => void = () => undefined;
    const settled = new Promise<void>((resolve) => (finished = resolve));
    const taken = (this.handing.get(key) ?? Promise.resolve()).then(() => this.handOver(batch, key, settled));
    this.handing.set(key, taken.catch(() => undefined));
    const done = taken.then(async () => {
      await this.actors.quiesce();
      await this.effectsDurable();
    });
    void done.catch(() => undefined).then(finished);
    return { taken, done };
  }

  private async handOver(batch: ConsumedBatch, key: string, settled: Promise<void>): Promise<void> {
    // A batch whose hand-over failed comes again; nothing after it may reach the workers first (its
    // commands would then count as replays, their positions being lower, and be skipped).
    const failed = this.failedFrom.get(key);
    const first = batch.records[0]?.offset ?? 0;
    if (failed !== undefined) {
      if (first > failed) throw new Error(`an earlier batch of ${key} (from offset ${failed}) failed and has not come again`);
      this.failedFrom.delete(key);
    }
    try {
      await this.sendToWorkers(batch, key, settled);
    } catch (err) {
      this.failedFrom.set(key, Math.min(first, this.failedFrom.get(key) ?? first));
      throw err;
    }
  }

  private async sendToWorkers(batch: ConsumedBatch, key: string, settled: Promise<void>): Promise<void> {
    let inFlight = this.inFlight.get(key);
    if (!inFlight) this.inFlight.set(key, (inFlight = new Set()));
    while (inFlight.size >= MAX_BATCHES_IN_FLIGHT) await Promise.race(inFlight);
    if (!this.owned.get(batch.topic)?.has(batch.partition)) {
      // Lost while it waited its turn: the new owner runs these commands (the bus commits nothing of a batch
      // that began before the rebalance).
      this.opts.log.info({ topic: batch.topic, partition: batch.partition, records: batch.records.length }, 'a batch of a partition no longer owned was left to its new owner');
      return;
    }
    if (this.toPrepare.has(key)) await this.prepare(batch.topic, batch.partition);
    const held = inFlight;
    held.add(settled);
    void settled.then(() => held.delete(settled));
    for (const r of batch.records) {
      let command: Command;
      try {
        const value = decode(r.value);
        if (!isCommand(value)) throw new Error('not a command');
        command = value;
      } catch (err) {
        this.badRecord(batch, r.offset, r.value, err);
        continue;
      }
      this.actors.send(withPosition(command, r.offset));
    }
  }

  private onEvents(batch: ConsumedBatch): void {
    const me = this.opts.node;
    for (const r of batch.records) {
      let record: unknown[];
      try {
        record = decode(r.value) as unknown[];
      } catch (err) {
        this.badRecord(batch, r.offset, r.value, err);
        continue;
      }
      if (record[0] === RECORD_EFFECTS && Array.isArray(record[1])) {
        this.opts.count('events_received');
        // Nodes sharing a partition (numbers equal modulo its count) also read each other's records.
        if (record[2] !== null && (!Array.isArray(record[2]) || !(record[2] as number[]).includes(me))) {
          this.opts.count('events_not_needed');
          continue;
        }
        const mine = (record[1] as Effect[]).filter((e) => (e[0] === Eff.PUBLISH ? e[3] === undefined || e[3].includes(me) : typeof e[1] === 'number' && nodeOfConn(e[1]) === me));
        if (mine.length > 0) this.sockets.applyEffects(mine);
        this.opts.count('events_applied');
      } else if (record[0] === RECORD_REATTACH) {
        const kind = record[1] as 'room' | 'user';
        const partition = record[2] as number;
        for (const c of this.sockets.reattachCommands((k, id) => k === kind && partitionOf(id, this.opts.partitions) === partition)) this.dispatch(c);
      } else {
        this.badRecord(batch, r.offset, r.value, new Error('not an event record'));
      }
    }
  }

  /** A record we cannot read is counted and logged (never fatal: another node or version may have written it). */
  private badRecord(batch: ConsumedBatch, offset: number, value: Uint8Array, err: unknown): void {
    this.opts.count('bad_records');
    this.opts.log.warn({ topic: batch.topic, partition: batch.partition, offset, bytes: value.byteLength, err: String(err) }, 'unreadable record in the cluster log; skipped');
  }
}

function groupByTopic(batch: readonly Queued[]): { topic: string; records: BusRecord[] }[] {
  const by = new Map<string, BusRecord[]>();
  for (const q of batch) {
    let list = by.get(q.topic);
    if (!list) by.set(q.topic, (list = []));
    list.push(q.record);
  }
  return [...by].map(([topic, records]) => ({ topic, records }));
}

/** The user a chat command comes from (the budget is per user). */
function userOf(c: Command): string {
  const v = readCommand(c);
  return v.kind === 'chat' ? v.user : '';
}
