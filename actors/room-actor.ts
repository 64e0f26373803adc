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
import { MemberMap } from './member-map';
import { Actor, type Turn } from './actor';
import { ChatFlag, eff, nodeOfConn, positionOf, readCommand, type Command, type CommandView, type PurgeNodeCmd, type RoomCommand } from './messages';
import type { GiftCatalog } from '../economy/gift-catalog';
import { ErrorCode, Role, ServerOp } from '../protocol/codes';
import { codePointLength, errorFrame, replyFrame, roomChatFrame, roomGiftFrame, roomLeaderboardFrame, roomLiveFrame, roomModFrame, roomPresenceFrame, roomResyncFrame, roomGameFrame } from '../protocol/codec';
import type { RoomSnapshot } from '../adapters/store/realtime-store';
import { postingsFor, userAccount, type Ledger, type LedgerEntry, type LedgerOp, type LedgerResult, type Posting } from '../adapters/ledger/ledger';
import { ledgerErrorCode } from './ledger-errors';
import { randomUUID } from 'node:crypto';
import type { AnalyticsEvent } from '../adapters/analytics/analytics-sink';
import { GAME_DONE, RoomGames, type GameDone, type RoomGamesDeps } from './room-games';
import { RoomModeration, type ModRefusal, type ModRole, type RoomModAction } from './room-moderation';
import { SpamTracker, type ChatFilter, type FilterAction } from '../moderation/chat-filter';
import { decodeInternal } from '../common/internal-codec';

interface Member {
  readonly user: string;
  readonly role: Role;
  readonly joinedAt: number;
  /** The install id the connection's hello gave ('' none). */
  readonly device: string;
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
  /** The chat filter (config/moderation.json); without it chat is not filtered. */
  readonly filter?: ChatFilter;
  /** Followers-only chat asks the follow store (without it, followers-only refuses every viewer). */
  readonly follows?: { isFollowing(follower: string, creator: string): Promise<boolean> };
  /** Counts a filter decision (the worker reports them to /metrics). */
  readonly onFilter?: (rule: string, action: FilterAction) => void;
}

const GIFT_SETTLED = 101;
const RECONCILE = 102;
/** (103 is the games' GAME_DONE.) */
const FOLLOW_CHECKED = 104;
/** How long a "does not follow the host" answer is believed before the follow store is asked again. */
const FOLLOW_RECHECK_MS = 5000;
type GiftOp = Extract<LedgerOp, { kind: 'gift' }>;
/** conn, ref, op, ledger result */
type GiftSettled = [typeof GIFT_SETTLED, number, number, GiftOp, LedgerResult | Error];
type Reconcile = [typeof RECONCILE];
/** A followers-only chat waited for the follow store: the chat, and whether its sender follows the host. */
type FollowChecked = [typeof FOLLOW_CHECKED, Extract<CommandView, { kind: 'chat' }>, boolean | Error];
export type RoomMessage = RoomCommand | GiftSettled | Reconcile | PurgeNodeCmd | GameDone | FollowChecked;

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
  private readonly members = new MemberMap<Member>();
  private stream: string | null = null;

  /** The nodes holding members of this room now (cluster: where its broadcasts go). */
  memberNodes(): readonly number[] {
    return this.members.nodes();
  }

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
  private readonly mod: RoomModeration;
  private readonly spam: SpamTracker | null;
  /** Install ids seen on each user's joins (bounded), for bans that cover devices. */
  private readonly devices = new Map<string, Set<string>>();
  /**
   * Followers-only: who follows the host, as the follow store said. A yes is kept for the actor's life; a no
   * for FOLLOW_RECHECK_MS, so someone who follows after being refused can chat soon after.
   */
  private readonly followers = new Map<string, { follows: boolean; at: number }>();

  constructor(room: string, private readonly opts: RoomActorOptions, private readonly deps: RoomActorDeps) {
    super(room, opts.mailboxCapacity);
    this.games = new RoomGames({
      id: room,
      owner: () => this.owner,
      live: () => this.stream !== null,
      isMember: (conn, user, now) => this.isMember(conn, user, now),
      sequence: (turn, game, id, phase, data) => this.sequence(turn, this.owner ?? '', (seq) => roomGameFrame(this.id, seq, turn.now, game, id, phase, data)),
      track: (turn, e) => this.track(turn, e),
    }, { ledger: deps.ledger, config: deps.games?.config ?? null, guard: deps.games?.guard ?? null });
    this.mod = new RoomModeration({ id: room, owner: () => this.owner, devicesOf: (user) => [...(this.devices.get(user) ?? [])] },
      deps.filter?.config.defaultStrictness ?? 'standard');
    const repeat = deps.filter?.config.repeat;
    this.spam = repeat ? new SpamTracker(repeat.windowSec * 1000, repeat.max) : null;
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
    this.games.restore(snapshot.state);
    this.mod.restore(snapshot.state);
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
      if (position <= this.applied) {
        // Applied by the previous owner, whose reply may have died with it. A gift is asked of the ledger
        // again (its op id makes that harmless, and its seq is kept), so its sender hears the outcome now
        // rather than after its own timeout.
        const replayed = readCommand(msg as Command);
        if (replayed.kind === 'gift') this.gift(replayed.conn, replayed.user, replayed.ref, replayed.giftId, replayed.count, replayed.opId, turn);
        return;
      }
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
      case FOLLOW_CHECKED: {
        const [, chat, result] = msg;
        if (result instanceof Error) return void turn.emit(eff.send(chat.conn, errorFrame(chat.ref, ErrorCode.INTERNAL, 'could not check followers-only chat; retry')));
        this.followers.set(chat.user, { follows: result, at: turn.now });
        if (this.followers.size > 100_000) this.followers.delete(this.followers.keys().next().value as string);
        return this.chat(chat, turn);
      }
    }
    const c = readCommand(msg);
    switch (c.kind) {
      case 'join':
        return this.join(c.conn, c.user, c.role, c.ref, c.sinceSeq, c.reattach, c.device, c.country, turn);
      case 'leave':
        return this.leave(c.conn, c.ref, turn);
      case 'chat':
        return this.chat(c, turn);
      case 'gift':
        return this.gift(c.conn, c.user, c.ref, c.giftId, c.count, c.opId, turn);
      case 'roomEnd':
        return this.end(c.conn, c.user, c.ref, turn);
      case 'game':
        return this.games.handle(c, turn);
      case 'mod':
        return this.moderate(c, turn);
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

  private join(conn: number, user: string, role: Role, ref: number, sinceSeq: number, reattach: boolean, device: string, country: string, turn: Turn): void {
    if (device) this.sawDevice(user, device);
    const banned = this.mod.joinRefusal(user, device, country, turn.now);
    if (banned) {
      // Same settling as a refused host join; a member re-attaching after a restart is let go too.
      if (this.members.delete(conn)) this.presenceDirty = true;
      turn.emit(eff.unsubscribe(conn, this.id));
      if (ref) turn.emit(eff.send(conn, errorFrame(ref, banned.code, banned.message, banned.detail)));
      // A new account on a device banned with another one: staff review it (docs/moderation.md § Devices).
      if (banned.evading) {
        turn.writes.notify.push({ id: `evasion:${this.id}:${user}:${device}`, user, kind: 'mod_flag', at: turn.now,
          data: { reason: 'ban_evasion', room: this.id, banned: banned.evading, device } });
        this.track(turn, { type: 'filter_hit', user, rule: 'ban_evasion', action: 'flag' });
      }
      return;
    }
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
    this.members.set(conn, { user, role, joinedAt: already?.joinedAt ?? turn.now, device });

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
      ...this.mod.summary(user, false, turn.now),
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
    this.members.set(conn, { user, role: Role.VIEWER, joinedAt: now, device: '' });
    this.presenceDirty = true;
    return true;
  }

  /**
   * A chat message, through the room's rules before it gets a seq: membership and length, mute and slow
   * mode, followers-only (asking the follow store once per user), the same message repeated, then the
   * filter at the room's strictness (block, mask, or flag for review). A shadow-muted sender's message is
   * answered as usual but echoed only to their own connections, unsequenced (seq 0).
   */
  private chat(c: Extract<CommandView, { kind: 'chat' }>, turn: Turn): void {
    const { conn, user, ref, flags } = c;
    const refuse = (r: ModRefusal) => void turn.emit(eff.send(conn, errorFrame(ref, r.code, r.message, r.detail)));
    if (!this.isMember(conn, user, turn.now)) return refuse({ code: ErrorCode.NOT_IN_ROOM, message: 'join the room before chatting' });
    if (codePointLength(c.text) > this.opts.maxChatChars) {
      return refuse({ code: ErrorCode.MESSAGE_TOO_LONG, message: `chat is limited to ${this.opts.maxChatChars} characters` });
    }
    const role = this.mod.roleOf(user, (flags & ChatFlag.STAFF) !== 0);
    const refusal = this.mod.chatRefusal(user, role, turn.now);
    if (refusal) return refuse(refusal);
    if (this.mod.needsFollow(role)) {
      const known = this.followers.get(user);
      const stale = known === undefined || (!known.follows && turn.now - known.at >= FOLLOW_RECHECK_MS);
      if (stale && this.deps.follows && this.owner) {
        turn.defer(this.deps.follows.isFollowing(user, this.owner), (result): FollowChecked => [FOLLOW_CHECKED, c, result]);
        return;
      }
      if (known?.follows !== true) return refuse({ code: ErrorCode.FOLLOWERS_ONLY, message: 'only followers of the host may chat here now' });
    }
    const verdict = this.filterChat(user, role, c.text, turn);
    if ('code' in verdict) return refuse(verdict);
    const text = verdict.text;
    if ((flags & ChatFlag.SHADOW_MUTED) !== 0) {
      const echo = roomChatFrame(this.id, 0, turn.now, user, text);
      for (const [other, m] of this.members) if (m.user === user) turn.emit(eff.send(other, echo));
      turn.emit(eff.send(conn, replyFrame(ref, { seq: this.seq, ts: turn.now })));
      return;
    }
    this.mod.chatted(user, turn.now);
    this.track(turn, { type: 'chat', user, ...(this.stream ? { stream: this.stream } : {}) });
    const seq = this.sequence(turn, user, (at) => roomChatFrame(this.id, at, turn.now, user, text));
    turn.emit(eff.send(conn, replyFrame(ref, { seq, ts: turn.now })));
    if (verdict.flagged) {
      // Sent, and queued for review with what was written (docs/moderation.md § Filters).
      turn.writes.notify.push({ id: `flag:${this.id}:${seq}`, user, kind: 'mod_flag', at: turn.now,
        data: { reason: verdict.flagged, room: this.id, seq, text: c.text } });
    }
  }

  /**
   * The filter's and the repeat rule's verdict on one message; every decision is counted. The repeat rule
   * is for viewers: a host thanking gifters again and again is hosting, not spam.
   */
  private filterChat(user: string, role: ModRole, text: string, turn: Turn): ModRefusal | { text: string; flagged: string | null } {
    const filter = this.deps.filter;
    if (!filter) return { text, flagged: null };
    const level = this.mod.filterStrictness;
    const hit = (rule: string, action: FilterAction) => {
      this.deps.onFilter?.(rule, action);
      this.track(turn, { type: 'filter_hit', user, rule, action });
    };
    const repeatAction = filter.config.repeat.actions[level];
    if (repeatAction !== 'allow' && role === 'viewer' && this.spam?.repeated(user, text, turn.now)) {
      hit('repeat', repeatAction);
      if (repeatAction === 'block') return { code: ErrorCode.SPAM, message: 'the same message again: wait a little', detail: { rule: 'repeat' } };
    }
    const v = filter.check(text, level);
    for (const h of v.hits) hit(h.rule, h.action);
    if (v.action === 'block') {
      return v.spam ? { code: ErrorCode.SPAM, message: `refused as spam (${v.rule})`, detail: { rule: v.rule } }
        : { code: ErrorCode.MESSAGE_BLOCKED, message: `this message breaks the room's rules (${v.rule})`, detail: { rule: v.rule } };
    }
    return { text: v.text, flagged: v.action === 'flag' ? v.rule : null };
  }

  /**
   * A moderation action (docs/moderation.md § Room roles). Each change is one sequenced ROOM_MOD event,
   * stored with the new state; a kick or ban then takes the user's connections out of the room, and the
   * action is written to the outbox for the audit log.
   */
  private moderate(c: Extract<CommandView, { kind: 'mod' }>, turn: Turn): void {
    const fail = (r: ModRefusal) => void (c.ref && turn.emit(eff.send(c.conn, errorFrame(c.ref, r.code, r.message, r.detail))));
    if (!c.staff && !this.isMember(c.conn, c.user, turn.now)) return fail({ code: ErrorCode.NOT_IN_ROOM, message: 'join the room before moderating it' });
    const role = this.mod.roleOf(c.user, c.staff);
    const action = c.action as RoomModAction;
    if (role === 'viewer') return fail({ code: ErrorCode.NOT_MODERATOR, message: 'only the host, its moderators and staff moderate this room' });
    if (action === 'state') return void (c.ref && turn.emit(eff.send(c.conn, replyFrame(c.ref, { seq: 0, action, ...this.mod.snapshot(turn.now) }))));
    if (action === 'delete') return this.deleteMessage(c.conn, c.ref, c.user, role === 'moderator', c.args[0] as number, turn);
    if (action === 'kick' && ![...this.members.values()].some((m) => m.user === c.args[0])) {
      return fail({ code: ErrorCode.NOT_IN_ROOM, message: `${String(c.args[0])} is not in this room` });
    }
    const change = this.mod.apply(action, c.args, c.user, role, turn.now);
    if ('code' in change) return fail(change);
    // A kick changes who is present, not the room's stored rules.
    if (change.action !== 'kick') this.mod.persist(turn);
    const seq = this.sequenceMod(turn, c.user, change.action, change.data);
    if (change.remove) this.removeUser(change.remove, turn);
    this.audit(turn, seq, c.user, change.action, change.data);
    if (c.ref) turn.emit(eff.send(c.conn, replyFrame(c.ref, { seq, action, ...change.data })));
  }

  /**
   * Deletes a chat message still in the room's history: its stored frame becomes a `removed` tombstone at
   * the same seq (so a resume has no gap and never shows it again), and a `delete` event tells live
   * viewers to take it off their screens. Moderators cannot delete the host's messages.
   */
  private deleteMessage(conn: number, ref: number, by: string, isModerator: boolean, target: number, turn: Turn): void {
    const fail = (code: ErrorCode, message: string) => void (ref && turn.emit(eff.send(conn, errorFrame(ref, code, message))));
    const i = this.historySeqs.indexOf(target);
    const frame = i < 0 ? null : decodeInternal(this.historyFrames[i]!) as unknown[];
    if (!frame || frame[0] !== ServerOp.ROOM_CHAT) return fail(ErrorCode.UNKNOWN_MESSAGE, `no chat message ${target} in this room's history`);
    const author = frame[4] as string;
    if (isModerator && author === this.owner) return fail(ErrorCode.CANNOT_MODERATE, "moderators cannot delete the host's messages");
    const tombstone = roomModFrame(this.id, target, frame[3] as number, by, 'removed', { user: author });
    this.historyFrames[i] = tombstone;
    turn.writes.roomRedactions.push({ room: this.id, seq: target, frame: tombstone });
    const data = { message: target, user: author };
    const seq = this.sequenceMod(turn, by, 'delete', data);
    this.audit(turn, seq, by, 'delete', data);
    if (ref) turn.emit(eff.send(conn, replyFrame(ref, { seq, action: 'delete', ...data })));
  }

  private sequenceMod(turn: Turn, by: string, action: string, data: Record<string, unknown>): number {
    return this.sequence(turn, by, (seq) => roomModFrame(this.id, seq, turn.now, by, action, data));
  }

  /** Gives the next seq to the frame `frameAt` builds, keeps it in the history (and the store), and publishes it. */
  private sequence(turn: Turn, sender: string, frameAt: (seq: number) => Uint8Array, opId?: string): number {
    const seq = ++this.seq;
    const frame = frameAt(seq);
    this.remember(seq, frame, sender, turn, opId);
    turn.emit(eff.publish(this.id, frame));
    return seq;
  }

  /** Every connection of `user` leaves the room now (after the event that says why was published). */
  private removeUser(user: string, turn: Turn): void {
    for (const [conn, m] of this.members) {
      if (m.user !== user) continue;
      this.members.delete(conn);
      this.presenceDirty = true;
      turn.emit(eff.unsubscribe(conn, this.id));
    }
  }

  /** The audit log hears of every room action (through the outbox, with the event), and analytics too. */
  private audit(turn: Turn, seq: number, by: string, action: string, data: Record<string, unknown>): void {
    const target = typeof data.user === 'string' ? data.user : '';
    turn.writes.notify.push({ id: `modact:${this.id}:${seq}`, user: by, kind: 'mod_action', at: turn.now,
      data: { room: this.id, action, target, detail: JSON.stringify(data) } });
    this.track(turn, { type: 'mod_action', user: by, action, ...(target ? { target } : {}) });
  }

  private sawDevice(user: string, device: string): void {
    const set = this.devices.get(user) ?? new Set<string>();
    set.add(device);
    if (set.size > 8) set.delete(set.values().next().value as string);
    this.devices.set(user, set);
    if (this.devices.size > 50_000) this.devices.delete(this.devices.keys().next().value as string);
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
    const seq = this.sequence(turn, sender, (at) => roomGiftFrame(this.id, at, ts, sender, giftId, count, coins, current ? this.streamTotal : 0), opId);
    if (current) this.giftSeq.set(opId, seq);
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
