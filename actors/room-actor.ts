/**
 * RoomActor: the single writer of one live room's realtime state: who is in it, its per-room sequence,
 * the bounded history used for resume, its owner (the only user who may host), its live stream, and the
 * stream's gift tallies.
 *
 * Every sequenced event is written to the turn's batch and published in the same turn; the host sends the
 * effects only after the batch is durable, so a client never sees a seq that a restart could lose.
 *
 * Gifts: the actor validates (live stream, catalog, sender ≠ owner), hands the operation to the ledger
 * without blocking, and sequences the gift only when the ledger has committed it. A rebuilt actor compares
 * the stream's committed gifts in the ledger with its own events and sequences any that are missing, so a
 * committed gift is never lost from the room, even if the worker died between the two.
 */
import { Actor, type Turn } from './actor';
import { eff, nodeOfConn, positionOf, readCommand, type Command, type PurgeNodeCmd, type RoomCommand } from './messages';
import type { GiftCatalog } from '../economy/gift-catalog';
import { ErrorCode, Role } from '../protocol/codes';
import { codePointLength, errorFrame, replyFrame, roomChatFrame, roomGiftFrame, roomLeaderboardFrame, roomLiveFrame, roomPresenceFrame, roomResyncFrame, roomGameFrame } from '../protocol/codec';
import type { RoomSnapshot } from '../adapters/store/realtime-store';
import { postingsFor, userAccount, type Ledger, type LedgerEntry, type LedgerOp, type LedgerResult, type Posting } from '../adapters/ledger/ledger';
import { ledgerErrorCode } from './ledger-errors';
import { randomUUID } from 'node:crypto';
import type { AnalyticsEvent } from '../adapters/analytics/analytics-sink';
import { GAME_DONE, RoomGames, type GameDone, type RoomGamesDeps } from './room-games';

interface Member {
  readonly user: string;
  readonly role: Role;
  readonly joinedAt: number;
}

export interface RoomActorOptions {
  readonly mailboxCapacity: number;
  readonly historyLimit: number;
  readonly maxChatChars: number;
  readonly platformShareBps: number;
  readonly leaderboardSize: number;
  /** False when no analytics sink runs: events are then not even built. */
  readonly analytics: boolean;
}

export interface RoomActorDeps {
  readonly ledger: Ledger;
  readonly catalog: GiftCatalog;
  /** Cluster: nodes found dead (their connections were purged and must not come back). */
  readonly isNodeDead?: (node: number) => boolean;
  /** Games (off when its config is null). */
  readonly games?: Omit<RoomGamesDeps, 'ledger'>;
}

const GIFT_SETTLED = 101;
const RECONCILE = 102;
type GiftOp = Extract<LedgerOp, { kind: 'gift' }>;
/** conn, ref, op, ledger result */
type GiftSettled = [typeof GIFT_SETTLED, number, number, GiftOp, LedgerResult | Error];
type Reconcile = [typeof RECONCILE];
export type RoomMessage = RoomCommand | GiftSettled | Reconcile | PurgeNodeCmd | GameDone;

/** What a user's account received in a set of postings (a creator's part of a gift). */
function creditOf(postings: readonly Posting[], user: string): number {
  return postings.find((p) => p.account === userAccount(user))?.delta ?? 0;
}

export class RoomActor extends Actor<RoomMessage> {
  private owner: string | null = null;
  private seq = 0;
  /** Ring of the newest events: `historySeqs[i]` is the seq of `historyFrames[i]`. */
  private historySeqs: number[] = [];
  private historyFrames: Uint8Array[] = [];
  private readonly members = new Map<number, Member>();
  private stream: string | null = null;
  /** Seq of each sequenced gift of the live stream, by ledger op id: retries reuse it. */
  private readonly giftSeq = new Map<string, number>();
  private readonly tally = new Map<string, number>();
  private streamTotal = 0;
  /** Ledger gifts of this stream that have no room event yet (found on rebuild). */
  private unsequenced: LedgerEntry[] = [];
  /** Viewer count changed since the last presence push. */
  presenceDirty = false;
  private leaderboardDirty = false;
  /** Cluster: log position of the last command applied; a replay at or below it is skipped. */
  private applied = -1;
  /** The message being handled came from the cluster log (see isMember). */
  private fromLog = false;

  private readonly games: RoomGames;

  constructor(room: string, private readonly opts: RoomActorOptions, private readonly deps: RoomActorDeps) {
    super(room, opts.mailboxCapacity);
    this.games = new RoomGames({
      id: room,
      owner: () => this.owner,
      live: () => this.stream !== null,
      isMember: (conn, user, now) => this.isMember(conn, user, now),
      sequence: (turn, game, id, phase, data) => {
        const seq = ++this.seq;
        const frame = roomGameFrame(this.id, seq, turn.now, game, id, phase, data);
        this.remember(seq, frame, this.owner ?? '', turn);
        turn.emit(eff.publish(this.id, frame));
        return seq;
      },
      track: (turn, e) => this.track(turn, e),
    }, { ledger: deps.ledger, config: deps.games?.config ?? null, guard: deps.games?.guard ?? null });
  }

  /**
   * Rebuilds from the store snapshot and the ledger's committed gifts of the live stream. Gifts the ledger
   * has but the room never sequenced are queued for a RECONCILE turn.
   */
  async restore(snapshot: RoomSnapshot, streamGifts: readonly LedgerEntry[]): Promise<void> {
    this.owner = snapshot.owner;
    this.seq = Math.max(snapshot.seq, snapshot.history.at(-1)?.seq ?? 0);
    this.historySeqs = snapshot.history.map((h) => h.seq);
    this.historyFrames = snapshot.history.map((h) => h.frame);
    this.stream = snapshot.stream;
    for (const g of snapshot.streamGifts) this.giftSeq.set(g.opId, g.seq);
    this.applied = snapshot.applied;
    for (const entry of streamGifts) {
      this.count(entry.meta.sender as string, (entry.meta.count as number) * (entry.meta.unitPrice as number));
      if (!this.giftSeq.has(entry.opId)) this.unsequenced.push(entry);
    }
    if (this.unsequenced.length > 0) this.mailbox.offerSystem([RECONCILE]);
    this.games.restore(snapshot.games);
    await this.games.prepare();
    this.ready = true;
  }

  isIdle(): boolean {
    return this.members.size === 0 && this.mailbox.depth === 0 && !this.games.active();
  }

  /** Game deadlines (betting windows, move timeouts), checked on the room's timer. */
  tick(turn: Turn): void {
    this.games.tick(turn);
  }

  receive(msg: RoomMessage, turn: Turn): void {
    // A command from the cluster log carries its position (nothing else does); a new owner replaying the log
    // skips what the previous owner already applied (its writes, this position included, were stored together).
    const position = positionOf(msg as Command);
    this.fromLog = position >= 0;
    if (position >= 0) {
      if (position <= this.applied) return;
      this.applied = position;
      turn.writes.roomApplied.push({ room: this.id, position });
    }
    switch (msg[0]) {
      case GIFT_SETTLED:
        return this.settled(msg[1], msg[2], msg[3], msg[4], turn);
      case RECONCILE:
        return this.reconcile(turn);
      case GAME_DONE:
        return this.games.done(msg[1], msg[2], turn);
    }
    const c = readCommand(msg);
    switch (c.kind) {
      case 'join':
        return this.join(c.conn, c.user, c.role, c.ref, c.sinceSeq, c.reattach, turn);
      case 'leave':
        return this.leave(c.conn, c.ref, turn);
      case 'chat':
        return this.chat(c.conn, c.user, c.ref, c.text, turn);
      case 'gift':
        return this.gift(c.conn, c.user, c.ref, c.giftId, c.count, c.opId, turn);
      case 'roomEnd':
        return this.end(c.conn, c.user, c.ref, turn);
      case 'game':
        return this.games.handle(c, turn);
      case 'purgeNode':
        return this.purgeNode(c.node);
      default:
        return;
    }
  }

  /**
   * A node died: its connections will never leave on their own. (Their analytics leaves come from that
   * node's outbox when it starts again: see adapters/analytics/event-outbox.ts.)
   */
  private purgeNode(node: number): void {
    for (const conn of this.members.keys()) {
      if (nodeOfConn(conn) !== node) continue;
      this.members.delete(conn);
      this.presenceDirty = true;
    }
  }

  /** Publishes the viewer count and the leaderboard when they changed; called on the presence timer. */
  flushPresence(turn: Turn): void {
    if (this.presenceDirty) {
      this.presenceDirty = false;
      turn.emit(eff.publish(this.id, roomPresenceFrame(this.id, this.members.size)));
    }
    if (this.leaderboardDirty) {
      this.leaderboardDirty = false;
      turn.emit(eff.publish(this.id, roomLeaderboardFrame(this.id, this.leaderboard())));
    }
  }

  private join(conn: number, user: string, role: Role, ref: number, sinceSeq: number, reattach: boolean, turn: Turn): void {
    if (role === Role.HOST) {
      if (this.owner !== null && this.owner !== user) {
        // UNSUBSCRIBE settles the core's pending join so it stops counting against the room limit.
        if (!this.members.has(conn)) turn.emit(eff.unsubscribe(conn, this.id));
        if (ref) turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.NOT_ROOM_OWNER, 'only the room owner may join as host')));
        return;
      }
      if (this.owner === null) {
        this.owner = user;
        turn.writes.roomOwners.push({ room: this.id, owner: user });
      }
    }
    const already = this.members.get(conn);
    // Joins and leaves reach analytics from the connection's node (core/session.ts), which sees them end
    // even when this room's worker or node does not.
    if (!already) this.presenceDirty = true;
    this.members.set(conn, { user, role, joinedAt: already?.joinedAt ?? turn.now });

    if (reattach) {
      // The worker that held this room restarted: the client learns the recovered seq and resumes from
      // its own last seq, which the history (rebuilt from the store) can serve.
      turn.emit(eff.subscribe(conn, this.id, role));
      turn.emit(eff.send(conn, roomResyncFrame(this.id, this.seq)));
      return;
    }

    let missed = 0;
    let resync = false;
    if (sinceSeq >= 0) {
      const oldest = this.historySeqs[0] ?? this.seq + 1;
      // A gap exists when the client's next wanted seq is older than anything we still hold.
      resync = sinceSeq > this.seq || (sinceSeq + 1 < oldest && sinceSeq < this.seq);
      for (let i = 0; i < this.historySeqs.length; i++) {
        if (this.historySeqs[i]! > sinceSeq) {
          turn.emit(eff.send(conn, this.historyFrames[i]!));
          missed++;
        }
      }
    }
    // Subscribe after the replay and before the reply: the core applies effects in order, so the client
    // sees history, then live events, with no gap and no duplicate.
    turn.emit(eff.subscribe(conn, this.id, role));
    // The owner joining as host starts a live stream (after the subscribe, so the host sees it too).
    if (role === Role.HOST && this.stream === null) this.startStream(turn);
    turn.emit(eff.send(conn, replyFrame(ref, {
      room: this.id, seq: this.seq, viewers: this.members.size, owner: this.owner, role, missed, resync,
      live: this.stream !== null, stream: this.stream, giftTotal: this.streamTotal, top: this.leaderboard(),
    })));
  }

  private leave(conn: number, ref: number, turn: Turn): void {
    const member = this.members.get(conn);
    if (!member) {
      if (ref) turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.NOT_IN_ROOM, 'not in this room')));
      return;
    }
    this.members.delete(conn);
    this.presenceDirty = true;
    if (ref) {
      turn.emit(eff.unsubscribe(conn, this.id));
      turn.emit(eff.send(conn, replyFrame(ref, { room: this.id })));
    }
  }

  /**
   * Whether `conn` is in the room. In a cluster a session only sends room commands for rooms its node saw it
   * subscribed to, so a command from the log for a connection this (just rebuilt) room does not know yet
   * comes from a member whose re-attach is still on its way: it is taken back in as a viewer (its JOIN
   * follows and sets the role) instead of being refused during the takeover. Dead nodes' connections are not.
   */
  private isMember(conn: number, user: string, now: number): boolean {
    if (this.members.has(conn)) return true;
    if (!this.fromLog || this.deps.isNodeDead?.(nodeOfConn(conn))) return false;
    this.members.set(conn, { user, role: Role.VIEWER, joinedAt: now });
    this.presenceDirty = true;
    return true;
  }

  private chat(conn: number, user: string, ref: number, text: string, turn: Turn): void {
    if (!this.isMember(conn, user, turn.now)) {
      turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.NOT_IN_ROOM, 'join the room before chatting')));
      return;
    }
    if (codePointLength(text) > this.opts.maxChatChars) {
      turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.MESSAGE_TOO_LONG, `chat is limited to ${this.opts.maxChatChars} characters`)));
      return;
    }
    this.track(turn, { type: 'chat', user, ...(this.stream ? { stream: this.stream } : {}) });
    const seq = ++this.seq;
    const frame = roomChatFrame(this.id, seq, turn.now, user, text);
    this.remember(seq, frame, user, turn);
    turn.emit(eff.publish(this.id, frame));
    turn.emit(eff.send(conn, replyFrame(ref, { seq, ts: turn.now })));
  }

  private startStream(turn: Turn): void {
    const stream = `${this.id}.${turn.now}`;
    this.stream = stream;
    this.resetTallies();
    const seq = ++this.seq;
    const frame = roomLiveFrame(this.id, seq, turn.now, true, stream);
    this.track(turn, { type: 'room_start', user: this.owner ?? '', stream });
    turn.writes.roomStreams.push({ room: this.id, stream, startSeq: seq });
    // The host's followers are told, once per stream: a fan-out job, written with the stream's start.
    if (this.owner) turn.writes.notify.push({ id: `live:${stream}`, user: this.owner, kind: 'went_live', data: { room: this.id, stream, creator: this.owner }, at: turn.now });
    this.remember(seq, frame, this.owner ?? '', turn);
    turn.emit(eff.publish(this.id, frame));
  }

  private end(conn: number, user: string, ref: number, turn: Turn): void {
    if (user !== this.owner) return void turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.NOT_ROOM_OWNER, 'only the room owner may end the stream')));
    if (this.stream === null) return void turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.ROOM_NOT_LIVE, 'the room is not live')));
    const ended = this.stream;
    const total = this.streamTotal;
    this.stream = null;
    this.resetTallies();
    const seq = ++this.seq;
    const frame = roomLiveFrame(this.id, seq, turn.now, false, null);
    this.track(turn, { type: 'room_end', user, coins: total, stream: ended });
    turn.writes.roomStreams.push({ room: this.id, stream: null, startSeq: seq });
    this.remember(seq, frame, user, turn);
    turn.emit(eff.publish(this.id, frame));
    this.games.streamEnded(turn);
    turn.emit(eff.send(conn, replyFrame(ref, { seq, stream: ended, giftTotal: total })));
  }

  private gift(conn: number, user: string, ref: number, giftId: string, count: number, opId: string, turn: Turn): void {
    const fail = (code: ErrorCode, message: string) => turn.emit(eff.send(conn, errorFrame(ref, code, message)));
    if (!this.isMember(conn, user, turn.now)) return fail(ErrorCode.NOT_IN_ROOM, 'join the room before gifting');
    if (this.stream === null || this.owner === null) return fail(ErrorCode.ROOM_NOT_LIVE, 'the room is not live');
    if (user === this.owner) return fail(ErrorCode.CANNOT_GIFT_SELF, 'the host cannot gift their own stream');
    const item = this.deps.catalog.get(giftId);
    if (!item) return fail(ErrorCode.UNKNOWN_GIFT, `no gift ${giftId} in catalog version ${this.deps.catalog.version}`);
    const op: GiftOp = {
      kind: 'gift', opId, sender: user, creator: this.owner, room: this.id, stream: this.stream,
      giftId, count, unitPrice: item.price, platformShareBps: this.opts.platformShareBps,
    };
    turn.defer(this.deps.ledger.apply(op), (result): GiftSettled => [GIFT_SETTLED, conn, ref, op, result]);
  }

  private settled(conn: number, ref: number, op: GiftOp, result: LedgerResult | Error, turn: Turn): void {
    if (result instanceof Error) {
      // Unknown whether it committed: the client retries with the same op id and gets the true outcome.
      turn.emit(eff.send(conn, errorFrame(ref, ErrorCode.LEDGER_UNAVAILABLE, 'the ledger did not answer; retry with the same opId')));
      return;
    }
    if (!result.ok) {
      turn.emit(eff.send(conn, errorFrame(ref, ledgerErrorCode(result.code), result.message)));
      return;
    }
    const known = this.giftSeq.get(op.opId);
    if (known === undefined && !result.replayed) {
      // The creator hears about it (written with the gift's event: the notification outbox).
      turn.writes.notify.push({ id: `gift:${op.opId}`, user: op.creator, kind: 'gift', data: { from: op.sender, giftId: op.giftId, count: op.count, coins: op.count * op.unitPrice }, at: turn.now });
      const coins = op.count * op.unitPrice;
      this.track(turn, { type: 'gift', user: op.sender, creator: op.creator, giftId: op.giftId, count: op.count, coins, id: `gift:${op.opId}`,
        creatorCoins: creditOf(postingsFor(op), op.creator), stream: op.stream });
    }
    const seq = known ?? this.sequenceGift(op.opId, op.sender, op.giftId, op.count, op.count * op.unitPrice, op.stream, turn.now, true, turn);
    turn.emit(eff.send(conn, replyFrame(ref, {
      seq, opId: op.opId, coins: op.count * op.unitPrice, balance: result.balances[userAccount(op.sender)] ?? 0, replayed: result.replayed || known !== undefined,
    })));
  }

  private reconcile(turn: Turn): void {
    const missing = this.unsequenced;
    this.unsequenced = [];
    for (const e of missing) {
      if (this.giftSeq.has(e.opId)) continue;
      const m = e.meta;
      const coins = (m.count as number) * (m.unitPrice as number);
      const creatorCoins = creditOf(e.postings, m.creator as string);
      this.track(turn, { type: 'gift', user: m.sender as string, creator: m.creator as string, giftId: m.giftId as string, count: m.count as number, coins, id: `gift:${e.opId}`,
        creatorCoins, stream: m.stream as string, ts: e.ts });
      turn.writes.notify.push({ id: `gift:${e.opId}`, user: m.creator as string, kind: 'gift', data: { from: m.sender as string, giftId: m.giftId as string, count: m.count as number, coins }, at: e.ts });
      this.sequenceGift(e.opId, m.sender as string, m.giftId as string, m.count as number, coins, m.stream as string, e.ts, false, turn);
    }
  }

  /** Gives a committed gift its place in the room sequence and broadcasts it. Returns its seq. */
  private sequenceGift(opId: string, sender: string, giftId: string, count: number, coins: number, stream: string, ts: number, tally: boolean, turn: Turn): number {
    // A gift committed for a stream that has since ended still gets its event; it no longer counts
    // towards the (new or absent) live stream's tallies.
    const current = stream === this.stream;
    if (tally && current) this.count(sender, coins);
    const seq = ++this.seq;
    const frame = roomGiftFrame(this.id, seq, ts, sender, giftId, count, coins, current ? this.streamTotal : 0);
    this.remember(seq, frame, sender, turn, opId);
    if (current) this.giftSeq.set(opId, seq);
    turn.emit(eff.publish(this.id, frame));
    return seq;
  }

  /** Queues an analytics event for this room (delivered by the core's AnalyticsSink, off the hot path). */
  private track(turn: Turn, e: Partial<AnalyticsEvent> & Pick<AnalyticsEvent, 'type'>): void {
    if (!this.opts.analytics) return;
    turn.emit(eff.analytics({ ...e, id: e.id ?? randomUUID(), ts: e.ts ?? turn.now, room: this.id }));
  }

  private count(sender: string, coins: number): void {
    this.tally.set(sender, (this.tally.get(sender) ?? 0) + coins);
    this.streamTotal += coins;
    this.leaderboardDirty = true;
  }

  private resetTallies(): void {
    this.tally.clear();
    this.giftSeq.clear();
    this.streamTotal = 0;
    this.leaderboardDirty = true;
  }

  private leaderboard(): [string, number][] {
    return [...this.tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, this.opts.leaderboardSize);
  }

  private remember(seq: number, frame: Uint8Array, sender: string, turn: Turn, opId?: string): void {
    this.historySeqs.push(seq);
    this.historyFrames.push(frame);
    const limit = this.opts.historyLimit;
    if (this.historySeqs.length > limit * 2) {
      this.historySeqs = this.historySeqs.slice(-limit);
      this.historyFrames = this.historyFrames.slice(-limit);
      // The store keeps the same window (gift events excepted); older chat is not needed for resume.
      turn.writes.roomPrunes.push({ room: this.id, belowSeq: this.historySeqs[0]! });
    }
    turn.writes.roomEvents.push({ room: this.id, seq, ts: turn.now, sender, frame, ...(opId ? { opId } : {}) });
  }
}
