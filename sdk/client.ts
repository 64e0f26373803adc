/**
 * HaloBuzz client SDK for protocol v1 (React Native, browsers, Node). It connects, says hello with an
 * access token, correlates requests and replies by ref with timeouts, reconnects with backoff, and on
 * reconnect resumes every joined room from the last seq it saw. Room events are de-duplicated by seq and
 * direct messages by inbox id, so an app sees each at most once even across reconnects.
 */
import { Emitter } from './emitter';
import { ClientOp, CloseCode, PROTOCOL_VERSION, Role, ServerOp, TERMINAL_CLOSE_CODES, errorName } from '../protocol/codes';
import { decodeServerFrame as decode, encode } from '../protocol/codec';

export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface ClientOptions {
  /**
   * The server's WebSocket URL, or several (the nodes of a cluster): the client starts with the first and
   * moves to the next one each time a connection is lost, so it lands on a live node after a node dies.
   */
  readonly url: string | readonly string[];
  /** A token, or a function the client calls on every (re)connect to get a fresh one. */
  readonly token: string | (() => string | Promise<string>);
  /** Defaults to the platform's global WebSocket. */
  readonly webSocket?: WebSocketFactory;
  readonly requestTimeoutMs?: number;
  readonly reconnect?: boolean;
  readonly reconnectMinDelayMs?: number;
  readonly reconnectMaxDelayMs?: number;
  /** Acknowledge direct messages automatically once they were emitted (default true). */
  readonly autoAckInbox?: boolean;
  /** What the app says about itself in HELLO, for analytics (docs/protocol.md § The client map). */
  readonly client?: { readonly platform?: string; readonly app?: string; readonly country?: string; readonly device?: string };
}

export interface HelloResult {
  readonly v: number;
  readonly user: string;
  readonly sid: string;
  readonly node: string;
  readonly conn: number;
  readonly exp: number;
  readonly limits: Record<string, number>;
}

export interface JoinResult {
  readonly room: string;
  readonly seq: number;
  readonly viewers: number;
  readonly owner: string | null;
  readonly role: Role;
  readonly missed: number;
  readonly resync: boolean;
  readonly live: boolean;
  readonly stream: string | null;
  readonly giftTotal: number;
  readonly top: [string, number][];
  /** The room's rules (docs/moderation.md): slow mode seconds, followers-only, filter level, your role, your mute's end (0: none). */
  readonly slowSec: number;
  readonly followersOnly: boolean;
  readonly filter: 'relaxed' | 'standard' | 'strict';
  readonly modRole: 'host' | 'staff' | 'moderator' | 'viewer';
  readonly mutedUntil: number;
}

/** `seq` 0: your own message while staff have shadow-muted you (only you see it; not in the room's sequence). */
export interface ChatEvent { room: string; seq: number; ts: number; from: string; text: string }
/**
 * A moderation action in a room (docs/moderation.md lists each action's data). `removed` marks a deleted
 * chat message at its own seq (replayed on resume); `delete` tells live viewers to remove message `data.message`.
 */
export interface ModEvent { room: string; seq: number; ts: number; by: string; action: string; data: Record<string, unknown> }
/** The reply to a moderation action: the ROOM_MOD event's seq and the action's data. */
export interface ModResult { seq: number; action: string; [key: string]: unknown }
export interface GiftEvent { room: string; seq: number; ts: number; from: string; giftId: string; count: number; coins: number; creatorTotal: number }
export interface LiveEvent { room: string; seq: number; ts: number; live: boolean; stream: string | null }
export interface GiftResult { seq: number; opId: string; coins: number; balance: number; replayed: boolean }
export interface PresenceEvent { room: string; viewers: number }
export interface DirectMessage { id: number; ts: number; from: string; text: string }
/** A game's state changed (docs/games.md lists each game's phases and their data). */
export interface GameEvent { room: string; seq: number; ts: number; game: string; id: string; phase: string; data: Record<string, unknown> }
/** A notification pushed to a connected user (the same item GET /v1/notifications lists). */
export interface NotificationEvent { id: string; kind: string; title: string; body: string; data: Record<string, string | number>; createdAt: number }
export interface BetResult { round: string; betId: string; segment: string; coins: number; balance: number; replayed: boolean }
export type DuelMove = 'rock' | 'paper' | 'scissors';

export interface ClientEvents extends Record<string, unknown> {
  connected: HelloResult;
  disconnected: { code: number; reason: string; willReconnect: boolean };
  chat: ChatEvent;
  gift: GiftEvent;
  live: LiveEvent;
  leaderboard: { room: string; top: [string, number][] };
  presence: PresenceEvent;
  dm: DirectMessage;
  game: GameEvent;
  mod: ModEvent;
  notification: NotificationEvent;
  /** The server could not fill a gap in this room's history: reload the room's state. */
  resync: { room: string; seq: number };
  /** A room was resumed after a reconnect or a server-side recovery. */
  resumed: JoinResult;
  error: Error;
}

/** A reply error from the server; `code` is one of ErrorCode. */
export class HaloError extends Error {
  constructor(readonly code: number, message: string, readonly detail?: Record<string, unknown>) {
    super(`${errorName(code)} (${code}): ${message}`);
  }
}

export class TimeoutError extends Error {
  readonly code = 'TIMEOUT';
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Requests about one room (its id first): on a new connection they wait for that room's RESUME. */
const ROOM_REQUESTS = new Set<number>([ClientOp.LEAVE, ClientOp.CHAT, ClientOp.GIFT, ClientOp.ROOM_END, ClientOp.GAMES,
  ClientOp.GAME_START, ClientOp.GAME_STOP, ClientOp.BET, ClientOp.DUEL, ClientOp.MOD]);

interface JoinedRoom {
  role: Role;
  lastSeq: number;
  /** A RESUME for a gap is in flight: later events wait for it rather than skip the gap. */
  resuming?: boolean;
}

export class HaloClient extends Emitter<ClientEvents> {
  private ws: WebSocketLike | null = null;
  private nextRef = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly rooms = new Map<string, JoinedRoom>();
  private lastInboxId = 0;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private closedByUser = false;
  private attempts = 0;
  private urlIndex = 0;
  /** The URLs in the order connections try them: placement hints first, then the configured ones. */
  private urls: readonly string[];
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private hello: HelloResult | null = null;
  private readonly factory: WebSocketFactory;
  /** Committed duel moves and their salts, until revealed. */
  private readonly moves = new Map<string, { move: DuelMove; salt: string }>();
  /** Rooms being resumed on a new connection, until their RESUME is answered. */
  private readonly roomsResuming = new Map<string, Promise<void>>();

  constructor(private readonly opts: ClientOptions) {
    super();
    this.urls = typeof opts.url === 'string' ? [opts.url] : [...opts.url];
    const global = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
    this.factory = opts.webSocket ?? ((url) => {
      if (!global) throw new Error('no global WebSocket: pass options.webSocket (sdk/node.ts has one for Node)');
      const ws = new global(url);
      ws.binaryType = 'arraybuffer';
      return ws;
    });
  }

  get connected(): boolean {
    return this.hello !== null;
  }

  get session(): HelloResult | null {
    return this.hello;
  }

  /** The highest room seq this client has seen, or undefined if it is not in the room. */
  lastSeq(room: string): number | undefined {
    return this.rooms.get(room)?.lastSeq;
  }

  /** Opens the socket and says hello. Rejects on a terminal failure (bad token, bad version). */
  connect(): Promise<HelloResult> {
    this.closedByUser = false;
    return this.open();
  }

  async join(room: string, role: Role = Role.VIEWER): Promise<JoinResult> {
    const known = this.rooms.get(room);
    const result = known
      ? ((await this.request(ClientOp.RESUME, room, known.lastSeq, role)) as JoinResult)
      : ((await this.request(ClientOp.JOIN, room, role)) as JoinResult);
    this.settleJoin(room, role, result);
    return result;
  }

  async leave(room: string): Promise<void> {
    await this.request(ClientOp.LEAVE, room);
    this.rooms.delete(room);
  }

  chat(room: string, text: string): Promise<{ seq: number; ts: number }> {
    return this.request(ClientOp.CHAT, room, text) as Promise<{ seq: number; ts: number }>;
  }

  dm(to: string, text: string): Promise<{ to: string; id: number; ts: number; online: boolean }> {
    return this.request(ClientOp.DM, to, text) as Promise<{ to: string; id: number; ts: number; online: boolean }>;
  }

  /**
   * Sends a gift. Pass the same `opId` when retrying after a timeout or LEDGER_UNAVAILABLE: the server
   * charges at most once. `newOpId()` makes one.
   */
  gift(room: string, giftId: string, count: number, opId: string): Promise<GiftResult> {
    return this.request(ClientOp.GIFT, room, giftId, count, opId) as Promise<GiftResult>;
  }

  /** A fresh operation id for a money request. */
  static newOpId(): string {
    const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
    if (c?.randomUUID) return c.randomUUID();
    return `op-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  }

  /** The room's games: the wheel (its table and current round) and open duels. */
  games(room: string): Promise<Record<string, unknown>> {
    return this.request(ClientOp.GAMES, room) as Promise<Record<string, unknown>>;
  }

  /** Host: starts the wheel (rounds follow each other until stopped or the stream ends). */
  startGame(room: string, game = 'wheel'): Promise<{ game: string; on: boolean; round: string | null }> {
    return this.request(ClientOp.GAME_START, room, game) as Promise<{ game: string; on: boolean; round: string | null }>;
  }

  /** Host: stops the wheel after its current round. */
  stopGame(room: string, game = 'wheel'): Promise<{ game: string; on: boolean; round: string | null }> {
    return this.request(ClientOp.GAME_STOP, room, game) as Promise<{ game: string; on: boolean; round: string | null }>;
  }

  /**
   * Stakes `coins` on a wheel segment of the open round. Retry with the same `betId` (8–32 characters) after
   * a timeout: the stake is taken once. `clientSeed` goes into the round's draw (docs/games.md).
   */
  bet(room: string, round: string, segment: string, coins: number, betId: string, clientSeed = ''): Promise<BetResult> {
    return this.request(ClientOp.BET, room, round, segment, coins, betId, clientSeed) as Promise<BetResult>;
  }

  /** Challenges `opponent` (a user id, "@bot" for the house bot, or "" for anyone in the room) to a duel. */
  challenge(room: string, duelId: string, stake: number, opponent: string, clientSeed = ''): Promise<{ duel: Record<string, unknown> }> {
    return this.request(ClientOp.DUEL, room, 'challenge', duelId, stake, opponent, clientSeed) as Promise<{ duel: Record<string, unknown> }>;
  }

  /** Accepts a duel (by the server's duel id from the `offered` event). */
  acceptDuel(room: string, duel: string): Promise<{ duel: Record<string, unknown> }> {
    return this.request(ClientOp.DUEL, room, 'accept', duel) as Promise<{ duel: Record<string, unknown> }>;
  }

  /**
   * Commits a move: sends SHA-256 of `move:salt` with a fresh salt the client keeps for `revealMove`.
   * The other player sees that you committed, never what.
   */
  async commitMove(room: string, duel: string, move: DuelMove): Promise<{ duel: Record<string, unknown> }> {
    const salt = HaloClient.newOpId().replace(/[^A-Za-z0-9_.-]/g, '');
    const commitment = await moveCommitment(move, salt);
    const reply = (await this.request(ClientOp.DUEL, room, 'commit', duel, commitment)) as { duel: Record<string, unknown> };
    this.moves.set(duel, { move, salt });
    return reply;
  }

  /** Reveals the move committed last for this duel (the server checks it against the commitment). */
  revealMove(room: string, duel: string): Promise<{ duel: Record<string, unknown> }> {
    const m = this.moves.get(duel);
    if (!m) return Promise.reject(new Error(`no committed move for duel ${duel}`));
    return (this.request(ClientOp.DUEL, room, 'reveal', duel, m.move, m.salt) as Promise<{ duel: Record<string, unknown> }>).then((r) => {
      this.moves.delete(duel);
      return r;
    });
  }

  forfeitDuel(room: string, duel: string): Promise<{ duel: Record<string, unknown> }> {
    return this.request(ClientOp.DUEL, room, 'forfeit', duel) as Promise<{ duel: Record<string, unknown> }>;
  }

  /** The room's moderators, mutes, bans and settings (host, moderators and staff). */
  moderation(room: string): Promise<ModResult> {
    return this.mod(room, 'state');
  }

  appointModerator(room: string, user: string): Promise<ModResult> {
    return this.mod(room, 'appoint', user);
  }

  dismissModerator(room: string, user: string): Promise<ModResult> {
    return this.mod(room, 'dismiss', user);
  }

  mute(room: string, user: string, seconds: number): Promise<ModResult> {
    return this.mod(room, 'mute', user, seconds);
  }

  unmute(room: string, user: string): Promise<ModResult> {
    return this.mod(room, 'unmute', user);
  }

  kick(room: string, user: string): Promise<ModResult> {
    return this.mod(room, 'kick', user);
  }

  /** `seconds` 0 bans for good; `devices` also bans the install ids the user joined with. */
  ban(room: string, user: string, opts: { seconds?: number; devices?: boolean } = {}): Promise<ModResult> {
    return this.mod(room, 'ban', user, opts.seconds ?? 0, opts.devices ?? false);
  }

  unban(room: string, user: string): Promise<ModResult> {
    return this.mod(room, 'unban', user);
  }

  deleteMessage(room: string, seq: number): Promise<ModResult> {
    return this.mod(room, 'delete', seq);
  }

  /** At most one message per `seconds` per viewer (0: off). */
  setSlowMode(room: string, seconds: number): Promise<ModResult> {
    return this.mod(room, 'slow', seconds);
  }

  setFollowersOnly(room: string, on: boolean): Promise<ModResult> {
    return this.mod(room, 'followers', on);
  }

  setFilter(room: string, level: 'relaxed' | 'standard' | 'strict'): Promise<ModResult> {
    return this.mod(room, 'filter', level);
  }

  private mod(room: string, action: string, ...args: unknown[]): Promise<ModResult> {
    return this.request(ClientOp.MOD, room, action, ...args) as Promise<ModResult>;
  }

  endStream(room: string): Promise<{ seq: number; stream: string; giftTotal: number }> {
    return this.request(ClientOp.ROOM_END, room) as Promise<{ seq: number; stream: string; giftTotal: number }>;
  }

  wallet(): Promise<{ balance: number; debt: number }> {
    return this.request(ClientOp.WALLET) as Promise<{ balance: number; debt: number }>;
  }

  ackInbox(upTo: number): Promise<{ acked: number }> {
    return this.request(ClientOp.INBOX_ACK, upTo) as Promise<{ acked: number }>;
  }

  ping(): Promise<{ ts: number }> {
    return this.request(ClientOp.PING) as Promise<{ ts: number }>;
  }

  /** Sends a raw request; exposed for ops this SDK version does not wrap yet. */
  request(op: number, ...args: unknown[]): Promise<unknown> {
    // After a reconnect the node refuses a room's requests (NOT_IN_ROOM) until this connection has resumed
    // the room: wait for that instead of failing.
    const resuming = ROOM_REQUESTS.has(op) ? this.roomsResuming.get(args[0] as string) : undefined;
    if (resuming) return resuming.then(() => this.request(op, ...args));
    const ws = this.ws;
    if (!ws || (op !== ClientOp.HELLO && this.hello === null)) return Promise.reject(new Error('not connected'));
    const ref = this.nextRef++;
    if (this.nextRef > 0xffffffff) this.nextRef = 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new TimeoutError(`request ${op} (ref ${ref}) timed out`));
      }, this.opts.requestTimeoutMs ?? 10_000);
      this.pending.set(ref, { resolve, reject, timer });
      ws.send(encode([op, ref, ...args]));
    });
  }

  /** Closes for good: no reconnect. */
  close(): void {
    this.closedByUser = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    this.ws?.close(CloseCode.NORMAL, 'client closed');
  }

  /**
   * Placement: the socket URLs discovery lists for a room (`GET /v1/rooms/{id}` → `nodes`) are tried
   * first by the next connect, before the configured ones. Call it before `connect()` (or before a
   * reconnect) for the room the viewer is about to watch: its viewers then gather on the nodes already
   * serving it, and each node reads the events of fewer rooms (docs/cluster.md § Placement).
   */
  preferNodes(urls: readonly string[]): void {
    const configured = typeof this.opts.url === 'string' ? [this.opts.url] : [...this.opts.url];
    this.urls = [...new Set([...urls, ...configured])];
    this.urlIndex = 0;
  }

  /** The URL of the current connection, or of the next one to try. */
  get currentUrl(): string {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  private async open(): Promise<HelloResult> {
    const token = typeof this.opts.token === 'function' ? await this.opts.token() : this.opts.token;
    const urls = this.urls;
    const ws = this.factory(urls[this.urlIndex % urls.length]!);
    this.ws = ws;
    return new Promise<HelloResult>((resolve, reject) => {
      let settled = false;
      let helloError: HaloError | null = null;
      ws.onopen = () => {
        this.request(ClientOp.HELLO, PROTOCOL_VERSION, token, ...(this.opts.client ? [this.opts.client] : [])).then((result) => {
          this.hello = result as HelloResult;
          this.attempts = 0;
          settled = true;
          resolve(this.hello);
          this.emit('connected', this.hello);
          void this.resumeAll();
        }, (err: Error) => {
          // A refused HELLO is followed by the server's close, whose code says what to do (4001, 4003,
          // 4004, 4005): settle there, with this error's text.
          if (err instanceof HaloError) {
            helloError = err;
            return;
          }
          if (!settled) {
            settled = true;
            reject(err);
          }
        });
      };
      ws.onmessage = (ev) => this.onFrame(ev.data);
      ws.onerror = () => {
        // onclose follows with the code; nothing to do here.
      };
      ws.onclose = (ev) => {
        if (this.ws !== ws) return;
        this.ws = null;
        this.hello = null;
        // Try the next node next time (a no-op with one URL).
        this.urlIndex++;
        for (const [ref, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`connection closed (${ev.code}) before reply to ref ${ref}`));
        }
        this.pending.clear();
        const terminal = TERMINAL_CLOSE_CODES.has(ev.code);
        const willReconnect = !this.closedByUser && !terminal && (this.opts.reconnect ?? true);
        this.emit('disconnected', { code: ev.code, reason: ev.reason, willReconnect });
        if (!settled) {
          settled = true;
          reject(new Error(`connection closed during hello: ${ev.code} ${ev.reason}${helloError ? ` (${helloError.message})` : ''}`));
          if (terminal || !willReconnect) return;
        }
        if (willReconnect) this.scheduleReconnect();
      };
    });
  }

  private scheduleReconnect(): void {
    const min = this.opts.reconnectMinDelayMs ?? 250;
    const max = this.opts.reconnectMaxDelayMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** this.attempts) * (0.5 + Math.random() / 2);
    this.attempts++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      if (this.closedByUser) return;
      this.open().catch(() => {
        // onclose has already scheduled the next attempt, or the failure was terminal.
      });
    }, delay);
  }

  private async resumeAll(): Promise<void> {
    // Until a room's RESUME on this connection is answered, its requests wait (see request()).
    const waits = new Map<string, { promise: Promise<void>; resolve: () => void }>();
    for (const room of this.rooms.keys()) {
      let resolve: () => void = () => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      waits.set(room, { promise, resolve });
      this.roomsResuming.set(room, promise);
    }
    const release = (room: string) => {
      const own = waits.get(room);
      // (A newer connection may already be resuming it: leave that one's wait in place.)
      if (own && this.roomsResuming.get(room) === own.promise) this.roomsResuming.delete(room);
      own?.resolve();
    };
    try {
      for (const [room, joined] of [...this.rooms]) {
        await this.resume(room, joined);
        release(room);
      }
    } finally {
      for (const room of waits.keys()) release(room);
    }
  }

  private async resume(room: string, joined: JoinedRoom): Promise<void> {
    try {
      const result = (await this.request(ClientOp.RESUME, room, joined.lastSeq, joined.role)) as JoinResult;
      this.settleJoin(room, joined.role, result);
      this.emit('resumed', result);
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private settleJoin(room: string, role: Role, result: JoinResult): void {
    const joined = this.rooms.get(room) ?? { role, lastSeq: 0 };
    joined.role = role;
    joined.lastSeq = Math.max(joined.lastSeq, result.seq);
    this.rooms.set(room, joined);
    if (result.resync) this.emit('resync', { room, seq: result.seq });
  }

  private onFrame(data: unknown): void {
    let frame: unknown[];
    try {
      frame = decode(data as ArrayBuffer) as unknown[];
    } catch (err) {
      this.emit('error', err as Error);
      return;
    }
    switch (frame[0]) {
      case ServerOp.REPLY:
      case ServerOp.ERROR: {
        const p = this.pending.get(frame[1] as number);
        if (!p) return;
        this.pending.delete(frame[1] as number);
        clearTimeout(p.timer);
        if (frame[0] === ServerOp.REPLY) p.resolve(frame[2]);
        else p.reject(new HaloError(frame[2] as number, frame[3] as string, frame[4] as Record<string, unknown> | undefined));
        return;
      }
      case ServerOp.ROOM_CHAT: {
        const [, room, seq, ts, from, text] = frame as [number, string, number, number, string, string];
        // seq 0 is outside the room's sequence (your own message while shadow-muted): shown, never counted.
        if (seq !== 0 && !this.accept(room, seq)) return;
        this.emit('chat', { room, seq, ts, from, text });
        return;
      }
      case ServerOp.ROOM_MOD: {
        const [, room, seq, ts, by, action, data] = frame as [number, string, number, number, string, string, Record<string, unknown>];
        if (!this.accept(room, seq)) return;
        this.emit('mod', { room, seq, ts, by, action, data });
        // A kick or ban of this user takes the room away (the server already unsubscribed us).
        if ((action === 'kick' || action === 'ban') && data.user === this.hello?.user) this.rooms.delete(room);
        return;
      }
      case ServerOp.ROOM_GIFT: {
        const [, room, seq, ts, from, giftId, count, coins, creatorTotal] = frame as [number, string, number, number, string, string, number, number, number];
        if (!this.accept(room, seq)) return;
        this.emit('gift', { room, seq, ts, from, giftId, count, coins, creatorTotal });
        return;
      }
      case ServerOp.ROOM_LIVE: {
        const [, room, seq, ts, live, stream] = frame as [number, string, number, number, boolean, string | null];
        if (!this.accept(room, seq)) return;
        this.emit('live', { room, seq, ts, live, stream });
        return;
      }
      case ServerOp.ROOM_GAME: {
        const [, room, seq, ts, game, id, phase, data] = frame as [number, string, number, number, string, string, string, Record<string, unknown>];
        if (!this.accept(room, seq)) return;
        this.emit('game', { room, seq, ts, game, id, phase, data });
        return;
      }
      case ServerOp.ROOM_LEADERBOARD:
        this.emit('leaderboard', { room: frame[1] as string, top: frame[2] as [string, number][] });
        return;
      case ServerOp.ROOM_PRESENCE:
        this.emit('presence', { room: frame[1] as string, viewers: frame[2] as number });
        return;
      case ServerOp.ROOM_RESYNC: {
        // The server rebuilt this room: ask for what we missed since our last seq.
        const joined = this.rooms.get(frame[1] as string);
        if (joined) void this.resume(frame[1] as string, joined);
        return;
      }
      case ServerOp.NOTIFICATION:
        this.emit('notification', frame[1] as NotificationEvent);
        return;
      case ServerOp.DM: {
        const [, id, ts, from, text] = frame as [number, number, number, string, string];
        if (id <= this.lastInboxId) return;
        this.lastInboxId = id;
        this.emit('dm', { id, ts, from, text });
        if (this.opts.autoAckInbox ?? true) this.scheduleAck();
        return;
      }
    }
  }

  /**
   * Drops duplicates (seq not above the last one seen) and never skips a gap: an event more than one above
   * the last seq (e.g. its room moved to another cluster node mid-stream) is dropped and the client
   * resumes from its last seq, which brings the missing events and this one back in order.
   */
  private accept(room: string, seq: number): boolean {
    const joined = this.rooms.get(room);
    if (!joined) return true;
    if (seq <= joined.lastSeq) return false;
    if (seq > joined.lastSeq + 1) {
      if (!joined.resuming) {
        joined.resuming = true;
        void this.resume(room, joined).finally(() => (joined.resuming = false));
      }
      return false;
    }
    joined.lastSeq = seq;
    return true;
  }

  private scheduleAck(): void {
    if (this.ackTimer) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      if (this.hello) this.ackInbox(this.lastInboxId).catch((err: Error) => this.emit('error', err));
    }, 0);
  }
}

/** SHA-256 of `move:salt` as lowercase hex: a duel commitment (WebCrypto, so browsers and React Native with a crypto polyfill work). */
export async function moveCommitment(move: DuelMove, salt: string): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: { digest(alg: string, data: Uint8Array): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!subtle) throw new Error('moveCommitment needs WebCrypto (globalThis.crypto.subtle)');
  const digest = new Uint8Array(await subtle.digest('SHA-256', new TextEncoder().encode(`${move}:${salt}`)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}
