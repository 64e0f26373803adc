/**
 * Session: the protocol state machine of one connection, independent of the network library. It decodes
 * a frame, checks auth, limits and argument types, and either answers itself (hello, ping, errors) or
 * turns the request into an actor command. It never runs business logic and never awaits.
 */
import type { LimitsConfig } from '../config/config';
import { randomUUID } from 'node:crypto';
import type { ActorAnalyticsEvent, Command } from '../actors/messages';
import type { EndedBy } from '../adapters/analytics/analytics-sink';
import { ChatFlag, cmd } from '../actors/messages';
import type { AccessClaims, VerifyResult } from './auth/jwt';
import { ClientOp, CloseCode, ErrorCode, PROTOCOL_VERSION, Role } from '../protocol/codes';
import { codePointLength, decodeClientFrame, errorFrame, replyFrame } from '../protocol/codec';
import { isRequestError, parseRequest, type Request } from '../protocol/requests';
import { TokenBucket, WindowCounter } from './rate-limit';
import type { CoreMetrics } from './metrics';

/** When a client's claimed country (hello `country`) may stand in for, or override, the one its address gives. */
export type RegionOverride = 'when_unknown' | 'always' | 'never';

/** The network seam: a uWS socket in production, an in-memory fake in tests. */
export interface Transport {
  /** Sends one binary frame. The transport closes the socket itself (SLOW_CONSUMER) if it overflows. */
  send(frame: Uint8Array): void;
  close(code: number, reason: string): void;
  subscribe(topic: string): void;
  unsubscribe(topic: string): void;
  /** Bytes queued for this socket and not yet written to the network. */
  bufferedAmount(): number;
}

export interface SessionDeps {
  readonly nodeId: string;
  readonly limits: LimitsConfig;
  readonly metrics: CoreMetrics;
  verifyToken(token: string): VerifyResult;
  /** True when the auth session `sid` was revoked (logout, refresh-token reuse). */
  isRevoked(sid: string): boolean;
  /** True while staff shadow-mute `user` (their chat reaches only their own connections). */
  isShadowMuted(user: string): boolean;
  /** The country of the connection's address (docs/regions.md), or null when unknown (private, loopback). */
  readonly ipCountry?: string | null;
  /** When the country the app claims in hello counts: only when the address says nothing (default), always, or never. */
  readonly regionOverride?: RegionOverride;
  /** Hands a command to the actor that owns its room or user. */
  dispatch(command: Command): void;
  /** Per-user chat bucket, shared by all connections of that user on this node. */
  userChatBucket(user: string): TokenBucket;
  onAuthenticated(session: Session): void;
  /** Records an analytics event of this connection (connect, disconnect, join, leave); never blocks. */
  track(event: ActorAnalyticsEvent): void;
  isShuttingDown(): boolean;
  now(): number;
}

/**
 * The limits a client is told in the hello reply (docs/protocol.md § Requests): text limits in Unicode code
 * points, rates as sustained per second with a burst, and the hello timeout.
 */
export function helloLimits(l: LimitsConfig): Record<string, number> {
  return {
    maxFrameBytes: l.maxFrameBytes, maxRooms: l.maxRoomsPerConnection, maxChatChars: l.maxChatChars, maxDmChars: l.maxDmChars,
    chatPerSecond: l.chatPerSecond, chatBurst: l.chatBurst, userChatPerSecond: l.userChatPerSecond, userChatBurst: l.userChatBurst,
    dmPerSecond: l.dmPerSecond, dmBurst: l.dmBurst, joinPerSecond: l.joinPerSecond, joinBurst: l.joinBurst,
    giftPerSecond: l.giftPerSecond, giftBurst: l.giftBurst, framesPerSecond: l.framesPerSecond, framesBurst: l.framesBurst,
    helloTimeoutMs: l.helloTimeoutMs, abuseErrorLimit: l.abuseErrorLimit, abuseWindowMs: l.abuseWindowMs,
  };
}

export class Session {
  user: string | null = null;
  claims: AccessClaims | null = null;
  private authenticatedAt = 0;
  closed = false;
  readonly openedAt: number;
  /** This connection's id in analytics (connect, disconnect, joins and leaves carry it). */
  readonly analyticsId = randomUUID();
  /** What the hello's client map said (platform, app version, country), copied onto its analytics events. */
  private client: { platform?: string; appVersion?: string; country?: string } = {};
  /** The app's install id from the hello (room device bans; docs/moderation.md § Devices), or null. */
  private device: string | null = null;
  /** Open room visits: the join event's id and when the room accepted the join. */
  private readonly visits = new Map<string, { id: string; at: number }>();
  /** The server closed this socket (shutdown, limits, revocation) rather than the client. */
  private closedByServer = false;
  /** Rooms the actors confirmed (via SUBSCRIBE effects), with the role held in each. */
  readonly rooms = new Map<string, Role>();
  private readonly pendingJoins = new Set<string>();
  /**
   * Rooms whose LEAVE was sent to the actor but not yet confirmed. They stop counting against `maxRooms` at
   * once, so LEAVE r0 then JOIN r9 sent back to back apply in send order.
   */
  private readonly leaving = new Set<string>();
  private readonly frames: TokenBucket;
  private readonly chat: TokenBucket;
  private readonly joins: TokenBucket;
  private readonly dms: TokenBucket;
  private readonly gifts: TokenBucket;
  private readonly abuse: WindowCounter;

  constructor(readonly id: number, readonly transport: Transport, private readonly deps: SessionDeps) {
    const now = deps.now();
    const l = deps.limits;
    this.openedAt = now;
    this.frames = new TokenBucket(l.framesPerSecond, l.framesBurst, now);
    this.chat = new TokenBucket(l.chatPerSecond, l.chatBurst, now);
    this.joins = new TokenBucket(l.joinPerSecond, l.joinBurst, now);
    this.dms = new TokenBucket(l.dmPerSecond, l.dmBurst, now);
    this.gifts = new TokenBucket(l.giftPerSecond, l.giftBurst, now);
    this.abuse = new WindowCounter(l.abuseWindowMs, now);
  }

  get authenticated(): boolean {
    return this.user !== null;
  }

  handleFrame(data: ArrayBuffer | Uint8Array, isBinary: boolean): void {
    if (this.closed) return;
    const now = this.deps.now();
    if (!isBinary) return this.fail(0, ErrorCode.TEXT_FRAME, 'frames must be binary MessagePack');
    let decoded: ReturnType<typeof decodeClientFrame>;
    try {
      decoded = decodeClientFrame(data);
    } catch {
      return this.fail(0, ErrorCode.BAD_FRAME, 'frame is not valid MessagePack');
    }
    const parsed = parseRequest(decoded.value, decoded.invalidUtf8);
    if (isRequestError(parsed)) {
      // A HELLO that cannot succeed ends an unauthenticated connection; after hello it is just an error.
      if (parsed.closeWith !== undefined && this.user === null) return this.helloFailed(parsed.ref, parsed.code, parsed.message, parsed.closeWith, parsed.detail);
      return this.fail(parsed.ref, parsed.code, parsed.message, parsed.detail);
    }
    this.deps.metrics.frameIn(parsed.op);
    if (!this.frames.take(now)) return this.limited(parsed.ref, this.frames, now);
    if (parsed.op === ClientOp.HELLO) return this.hello(parsed);
    if (this.user === null) return this.fail(parsed.ref, ErrorCode.NOT_AUTHENTICATED, 'send hello first');
    if (this.deps.isShuttingDown() && parsed.op !== ClientOp.PING) {
      return this.fail(parsed.ref, ErrorCode.SHUTTING_DOWN, 'server is shutting down, reconnect shortly');
    }
    this.route(parsed, this.user, now);
  }

  /** Called once when the socket is gone: the actors forget this connection. */
  handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    const user = this.user;
    if (user === null) return;
    for (const room of new Set([...this.rooms.keys(), ...this.pendingJoins])) {
      this.deps.dispatch(cmd.leave({ conn: this.id, user, room, ref: 0 }));
    }
    this.deps.dispatch(cmd.offline({ conn: this.id, user }));
    const now = this.deps.now();
    const endedBy = this.closedByServer ? 'server' : 'client';
    for (const room of [...this.visits.keys()]) this.endVisit(room, endedBy, now);
    this.deps.track({ id: `disconnect:${this.analyticsId}`, ts: now, type: 'disconnect', user, session: this.analyticsId, durationMs: now - this.authenticatedAt, endedBy, ...this.client });
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closedByServer = true;
    this.deps.metrics.closed(code);
    this.transport.close(code, reason);
  }

  /** The room actor accepted this connection: start receiving the room's topic. */
  subscribed(room: string, role: Role): void {
    this.pendingJoins.delete(room);
    // A repeated JOIN or a re-attach after a worker restart continues the visit that is open.
    if (!this.rooms.has(room) && this.user !== null) {
      const visit = { id: randomUUID(), at: this.deps.now() };
      this.visits.set(room, visit);
      this.deps.track({ id: visit.id, ts: visit.at, type: 'join', user: this.user, room, role: role === Role.HOST ? 'host' : 'viewer', session: this.analyticsId, ...this.client });
    }
    this.rooms.set(room, role);
    this.transport.subscribe(room);
  }

  /** The room let this connection go (its LEAVE, or the room's decision). */
  unsubscribed(room: string, endedBy: EndedBy = 'client'): void {
    this.endVisit(room, endedBy, this.deps.now());
    this.pendingJoins.delete(room);
    this.leaving.delete(room);
    this.rooms.delete(room);
    this.transport.unsubscribe(room);
  }

  /** Commands that rebuild this connection's place in the actors of a restarted worker. */
  reattachCommands(select: (kind: 'room' | 'user', id: string) => boolean): Command[] {
    const user = this.user;
    if (user === null || this.closed) return [];
    const out: Command[] = [];
    if (select('user', user)) out.push(cmd.online({ conn: this.id, user, reattach: true }));
    for (const [room, role] of this.rooms) {
      if (select('room', room)) out.push(cmd.join({ conn: this.id, user, room, role, ref: 0, sinceSeq: -1, reattach: true, device: this.device, country: this.country }));
    }
    return out;
  }

  private endVisit(room: string, endedBy: EndedBy, now: number): void {
    const visit = this.visits.get(room);
    if (!visit || this.user === null) return;
    this.visits.delete(room);
    const role = this.rooms.get(room) === Role.HOST ? 'host' : 'viewer';
    this.deps.track({ id: `leave:${visit.id}`, ts: now, type: 'leave', user: this.user, room, role, session: this.analyticsId, visit: visit.id,
      durationMs: now - visit.at, endedBy, ...this.client });
  }

  /** Every failed HELLO: one ERROR with its ref (counted), then the close that tells the client what to do. */
  private helloFailed(ref: number, code: ErrorCode, message: string, closeWith: CloseCode, detail?: Record<string, unknown>): void {
    this.deps.metrics.error(code);
    this.reply(errorFrame(ref, code, message, detail));
    this.close(closeWith, message.slice(0, 120));
  }

  private hello(req: Extract<Request, { op: typeof ClientOp.HELLO }>): void {
    if (this.user !== null) return this.fail(req.ref, ErrorCode.ALREADY_AUTHENTICATED, 'hello was already accepted');
    const verdict = this.deps.verifyToken(req.token);
    if (!verdict.ok) {
      const expired = verdict.reason === 'expired';
      return this.helloFailed(req.ref, ErrorCode.NOT_AUTHENTICATED, `token rejected: ${verdict.reason}`,
        expired ? CloseCode.TOKEN_EXPIRED : CloseCode.AUTH_FAILED, { reason: expired ? 'expired' : 'invalid' });
    }
    if (this.deps.isRevoked(verdict.claims.sid)) {
      return this.helloFailed(req.ref, ErrorCode.NOT_AUTHENTICATED, 'session revoked', CloseCode.SESSION_REVOKED, { reason: 'revoked' });
    }
    this.user = verdict.claims.sub;
    this.claims = verdict.claims;
    this.deps.onAuthenticated(this);
    this.authenticatedAt = this.deps.now();
    this.client = { ...(req.client.platform ? { platform: req.client.platform } : {}), ...(req.client.app ? { appVersion: req.client.app } : {}),
      ...(req.client.country ? { country: req.client.country } : {}) };
    this.device = req.client.device ?? null;
    this.deps.track({ id: `connect:${this.analyticsId}`, ts: this.authenticatedAt, type: 'connect', user: this.user, session: this.analyticsId, ...this.client });
    this.deps.dispatch(cmd.online({ conn: this.id, user: this.user, reattach: false }));
    const l = this.deps.limits;
    this.reply(replyFrame(req.ref, {
      v: PROTOCOL_VERSION,
      user: this.user,
      sid: verdict.claims.sid,
      node: this.deps.nodeId,
      conn: this.id,
      exp: verdict.claims.exp,
      limits: helloLimits(l),
    }));
  }

  private route(req: Request, user: string, now: number): void {
    switch (req.op) {
      case ClientOp.PING:
        return this.reply(replyFrame(req.ref, { ts: now }));
      case ClientOp.JOIN:
      case ClientOp.RESUME: {
        if (!this.joins.take(now)) return this.limited(req.ref, this.joins, now);
        const already = (this.rooms.has(req.room) || this.pendingJoins.has(req.room)) && !this.leaving.has(req.room);
        if (!already && this.roomCount() >= this.deps.limits.maxRoomsPerConnection) {
          return this.fail(req.ref, ErrorCode.TOO_MANY_ROOMS, `at most ${this.deps.limits.maxRoomsPerConnection} rooms per connection`);
        }
        this.leaving.delete(req.room);
        if (!this.rooms.has(req.room)) this.pendingJoins.add(req.room);
        const since = req.op === ClientOp.RESUME ? req.lastSeq : -1;
        return this.deps.dispatch(cmd.join({ conn: this.id, user, room: req.room, role: req.role, ref: req.ref, sinceSeq: since, reattach: false, device: this.device, country: this.country }));
      }
      case ClientOp.LEAVE:
        if (!this.rooms.has(req.room) && !this.pendingJoins.has(req.room)) return this.fail(req.ref, ErrorCode.NOT_IN_ROOM, 'not in this room');
        this.leaving.add(req.room);
        return this.deps.dispatch(cmd.leave({ conn: this.id, user, room: req.room, ref: req.ref }));
      case ClientOp.CHAT:
        if (codePointLength(req.text) > this.deps.limits.maxChatChars) {
          return this.fail(req.ref, ErrorCode.MESSAGE_TOO_LONG, `chat is limited to ${this.deps.limits.maxChatChars} characters`);
        }
        if (!this.rooms.has(req.room)) return this.fail(req.ref, ErrorCode.NOT_IN_ROOM, 'join the room before chatting');
        if (!this.chat.take(now)) return this.limited(req.ref, this.chat, now);
        {
          const shared = this.deps.userChatBucket(user);
          if (!shared.take(now)) return this.limited(req.ref, shared, now);
        }
        return this.deps.dispatch(cmd.chat({ conn: this.id, user, room: req.room, ref: req.ref, text: req.text,
          flags: (this.deps.isShadowMuted(user) ? ChatFlag.SHADOW_MUTED : 0) | (this.isStaff() ? ChatFlag.STAFF : 0) }));
      case ClientOp.DM:
        if (req.to === user) return this.fail(req.ref, ErrorCode.INVALID_RECIPIENT, 'cannot message yourself');
        if (codePointLength(req.text) > this.deps.limits.maxDmChars) {
          return this.fail(req.ref, ErrorCode.MESSAGE_TOO_LONG, `direct messages are limited to ${this.deps.limits.maxDmChars} characters`);
        }
        if (!this.dms.take(now)) return this.limited(req.ref, this.dms, now);
        return this.deps.dispatch(cmd.dm({ conn: this.id, from: user, to: req.to, ref: req.ref, text: req.text }));
      case ClientOp.INBOX_ACK:
        return this.deps.dispatch(cmd.inboxAck({ conn: this.id, user, ref: req.ref, upTo: req.upTo }));
      case ClientOp.GIFT:
        if (!this.rooms.has(req.room)) return this.fail(req.ref, ErrorCode.NOT_IN_ROOM, 'join the room before gifting');
        if (!this.gifts.take(now)) return this.limited(req.ref, this.gifts, now);
        return this.deps.dispatch(cmd.gift({ conn: this.id, user, room: req.room, ref: req.ref, giftId: req.giftId, count: req.count, opId: req.opId }));
      case ClientOp.ROOM_END:
        if (!this.rooms.has(req.room)) return this.fail(req.ref, ErrorCode.NOT_IN_ROOM, 'not in this room');
        return this.deps.dispatch(cmd.roomEnd({ conn: this.id, user, room: req.room, ref: req.ref }));
      case ClientOp.WALLET:
        return this.deps.dispatch(cmd.wallet({ conn: this.id, user, ref: req.ref }));
      case ClientOp.GAMES:
        return this.game(req.ref, req.room, user, 'list', [], now, false);
      case ClientOp.GAME_START:
      case ClientOp.GAME_STOP:
        return this.game(req.ref, req.room, user, req.op === ClientOp.GAME_START ? 'start' : 'stop', [req.game], now, true);
      case ClientOp.BET:
        return this.game(req.ref, req.room, user, 'bet', [req.round, req.segment, req.coins, req.betId, req.clientSeed], now, true);
      case ClientOp.DUEL:
        return this.game(req.ref, req.room, user, req.action, req.args, now, true);
      case ClientOp.MOD:
        // Staff act in any room without joining it; everyone else must be in the room.
        if (!this.rooms.has(req.room) && !this.isStaff()) return this.fail(req.ref, ErrorCode.NOT_IN_ROOM, 'join the room before moderating it');
        if (req.action !== 'state' && !this.joins.take(now)) return this.limited(req.ref, this.joins, now);
        return this.deps.dispatch(cmd.mod({ conn: this.id, user, room: req.room, ref: req.ref, action: req.action, args: req.args, staff: this.isStaff() }));
      case ClientOp.HELLO:
        return; // handled before routing
    }
  }

  /**
   * A game action for the room's actor, with what responsible play needs: the connection's country and the
   * account's age (from the token). Plays share the money bucket with gifts.
   */
  private game(ref: number, room: string, user: string, action: string, args: unknown[], now: number, limited: boolean): void {
    if (!this.rooms.has(room)) return this.fail(ref, ErrorCode.NOT_IN_ROOM, 'join the room before playing');
    if (limited && !this.gifts.take(now)) return this.limited(ref, this.gifts, now);
    const since = this.claims?.since;
    this.deps.dispatch(cmd.game({ conn: this.id, user, room, ref, action, args, country: this.country, accountSince: since === undefined ? null : since * 1000 }));
  }

  /**
   * The connection's country for region rules (games, region-restricted rooms): its address's, or the
   * hello's claim where the server's override rule allows (docs/regions.md).
   */
  get country(): string | null {
    const ip = this.deps.ipCountry ?? null;
    const claimed = this.client.country ?? null;
    switch (this.deps.regionOverride ?? 'when_unknown') {
      case 'always':
        return claimed ?? ip;
      case 'never':
        return ip;
      default:
        return ip ?? claimed;
    }
  }

  /** Platform staff (the admin role in the token). */
  private isStaff(): boolean {
    return this.claims?.roles?.includes('admin') === true;
  }

  /** Rooms joined or being joined, less those being left: what `maxRooms` limits. */
  private roomCount(): number {
    let n = this.pendingJoins.size;
    for (const room of this.rooms.keys()) if (!this.pendingJoins.has(room)) n++;
    for (const room of this.leaving) if (this.rooms.has(room) || this.pendingJoins.has(room)) n--;
    return n;
  }

  private reply(frame: Uint8Array): void {
    this.deps.metrics.sent();
    this.transport.send(frame);
  }

  private limited(ref: number, bucket: TokenBucket, now: number): void {
    this.fail(ref, ErrorCode.RATE_LIMITED, 'rate limit exceeded', { retryAfterMs: bucket.retryAfterMs(now) });
  }

  /** Sends a reply error; too many of them in the abuse window closes the connection. */
  private fail(ref: number, code: ErrorCode, message: string, detail?: Record<string, unknown>): void {
    this.deps.metrics.error(code);
    this.reply(errorFrame(ref, code, message, detail));
    if (this.abuse.hit(this.deps.now()) > this.deps.limits.abuseErrorLimit) {
      this.close(CloseCode.POLICY_VIOLATION, 'too many protocol errors');
    }
  }
}
