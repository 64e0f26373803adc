/**
 * Hub: the registry of this node's sessions (by connection id, user and auth session id) and the place
 * where actor effects meet sockets. It applies effect batches in order, answers the supervisor's request
 * for re-attach commands after a worker restart, and runs the periodic sweep that enforces the hello
 * timeout and token expiry.
 */
import { CONN_SPACE, Eff, analyticsOf, cmd, type ActorAnalyticsEvent, type Command, type Effect } from '../actors/messages';
import { CloseCode, ServerOp } from '../protocol/codes';
import { decodeInternal } from '../common/internal-codec';
import { TokenBucket } from './rate-limit';
import type { Session } from './session';
import type { CoreMetrics } from './metrics';
import type { LimitsConfig } from '../config/config';

/** Fan-out seam: uWS `app.publish` in production, the fake transport's topic map in tests. */
export interface Publisher {
  publish(topic: string, frame: Uint8Array): void;
}

interface UserEntry {
  readonly sessions: Set<Session>;
  readonly chat: TokenBucket;
}

/** An ERROR frame `[65, ref, code, …]` as the actors encode it (fixarray of 4 or 5, op 65 as fixint). */
function isErrorFrame(frame: Uint8Array): boolean {
  return (frame[0] === 0x94 || frame[0] === 0x95) && frame[1] === ServerOp.ERROR;
}

function errorCodeOf(frame: Uint8Array): number {
  const code = (decodeInternal(frame) as unknown[])[2];
  return typeof code === 'number' ? code : 0;
}

export class Hub {
  private readonly sessions = new Map<number, Session>();
  private readonly users = new Map<string, UserEntry>();
  /** Local subscribers of each room, for the slow-consumer check that follows publishes. */
  private readonly roomSessions = new Map<string, Set<Session>>();
  /** Per room: when its subscribers were last checked, and bytes published to it since. */
  private readonly slowCheck = new Map<string, { at: number; bytes: number }>();
  private nextId = 1;
  private connBase = 0;

  constructor(
    private readonly publisher: Publisher,
    private readonly dispatch: (command: Command) => void,
    private readonly metrics: CoreMetrics,
    private readonly limits: LimitsConfig,
    /** Analytics events of one effect batch, handed to the AnalyticsSink in one durable write. */
    private readonly onAnalytics: (events: ActorAnalyticsEvent[]) => void = () => undefined,
  ) {}

  newConnectionId(): number {
    return this.connBase + this.nextId++;
  }

  /** Cluster: connection ids start at node number × 2^32 (see nodeOfConn); set before the first socket. */
  setNodeNumber(node: number): void {
    this.connBase = node * CONN_SPACE;
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
    this.metrics.connections.set(this.sessions.size);
  }

  /** The socket is gone (or the server is closing it at shutdown); safe to call twice. */
  remove(session: Session): void {
    if (this.sessions.get(session.id) !== session) return;
    for (const room of session.rooms.keys()) this.leaveIndex(room, session);
    session.handleClose();
    this.sessions.delete(session.id);
    if (session.user !== null) {
      const entry = this.users.get(session.user);
      entry?.sessions.delete(session);
      if (entry && entry.sessions.size === 0) this.users.delete(session.user);
      this.metrics.authenticated.dec();
    }
    this.metrics.connections.set(this.sessions.size);
  }

  authenticated(session: Session, now: number): void {
    const user = session.user!;
    let entry = this.users.get(user);
    if (!entry) {
      entry = { sessions: new Set(), chat: new TokenBucket(this.limits.userChatPerSecond, this.limits.userChatBurst, now) };
      this.users.set(user, entry);
    }
    entry.sessions.add(session);
    this.metrics.authenticated.inc();
  }

  /** Connections on this node subscribed to `room` (its viewer count on a single node). */
  viewers(room: string): number {
    return this.roomSessions.get(room)?.size ?? 0;
  }

  /** Every room with local subscribers, and how many. */
  viewerCounts(): Map<string, number> {
    return new Map([...this.roomSessions].map(([room, set]) => [room, set.size]));
  }

  userChatBucket(user: string): TokenBucket {
    return this.users.get(user)!.chat;
  }

  /** Sends a frame to every open connection of `user` on this node; returns how many got it. */
  deliverToUser(user: string, frame: Uint8Array): number {
    let sent = 0;
    for (const s of this.users.get(user)?.sessions ?? []) {
      if (s.closed) continue;
      this.metrics.sent();
      s.transport.send(frame);
      sent++;
    }
    return sent;
  }

  /** Closes every socket opened with tokens of auth session `sid` (logout, refresh-token reuse). */
  revokeSession(sid: string): number {
    let closed = 0;
    for (const s of this.sessions.values()) {
      if (s.claims?.sid === sid) {
        s.close(CloseCode.SESSION_REVOKED, 'session revoked');
        closed++;
      }
    }
    return closed;
  }

  applyEffects(effects: readonly Effect[], now = Date.now()): void {
    // Analytics first, in one write: an event behind a reply in this batch is durable before the reply leaves.
    const events = analyticsOf(effects);
    if (events) this.onAnalytics(events);
    let published: Set<string> | null = null;
    for (const e of effects) {
      switch (e[0]) {
        case Eff.SEND: {
          const [, conn, frame] = e;
          const s = this.sessions.get(conn);
          if (s && !s.closed) {
            this.metrics.sent();
            if (isErrorFrame(frame)) this.metrics.error(errorCodeOf(frame));
            s.transport.send(frame);
          }
          break;
        }
        case Eff.PUBLISH: {
          const [, room, frame] = e;
          this.metrics.published();
          this.publisher.publish(room, frame);
          // Check as soon as half the limit went out to this room, even in the middle of a batch.
          if (this.countPublished(room, frame.byteLength, now)) this.checkSlowConsumers(room, now);
          else (published ??= new Set()).add(room);
          break;
        }
        case Eff.SUBSCRIBE: {
          const [, conn, room, role] = e;
          const s = this.sessions.get(conn);
          if (s && !s.closed) {
            s.subscribed(room, role);
            let set = this.roomSessions.get(room);
            if (!set) this.roomSessions.set(room, (set = new Set()));
            set.add(s);
          }
          // The socket closed while the join was in flight: tell the room to forget it.
          else this.dispatch(cmd.leave({ conn, user: s?.user ?? '', room, ref: 0 }));
          break;
        }
        case Eff.UNSUBSCRIBE: {
          const [, conn, room] = e;
          const s = this.sessions.get(conn);
          if (s) {
            s.unsubscribed(room);
            this.leaveIndex(room, s);
          }
          break;
        }
        case Eff.CLOSE: {
          const [, conn, code, reason] = e;
          this.sessions.get(conn)?.close(code, reason);
          break;
        }
        case Eff.ANALYTICS:
        case Eff.ORIGIN:
          break;
      }
    }
    if (published) for (const room of published) this.checkSlowConsumers(room, now);
  }

  /** Counts bytes published to a room; true when a slow-consumer check is due. */
  private countPublished(room: string, bytes: number, now: number): boolean {
    let c = this.slowCheck.get(room);
    if (!c) this.slowCheck.set(room, (c = { at: now, bytes: 0 }));
    c.bytes += bytes;
    return c.bytes >= this.limits.maxBackpressureBytes / 2;
  }

  /**
   * Closes the room's local subscribers that have more than the backpressure limit queued. A subscriber's
   * queue grows only by what its rooms publish, so checking once half the limit was published (or 50 ms
   * passed) keeps every socket far below uWS's own 8× cut-off while a big room costs few checks.
   */
  private checkSlowConsumers(room: string, now: number): void {
    const max = this.limits.maxBackpressureBytes;
    const c = this.slowCheck.get(room);
    if (!c || (c.bytes < max / 2 && now - c.at < 50)) return;
    c.at = now;
    c.bytes = 0;
    const set = this.roomSessions.get(room);
    if (!set) return;
    for (const s of set) if (!s.closed && s.transport.bufferedAmount() > max) s.close(CloseCode.SLOW_CONSUMER, 'slow consumer');
  }

  private leaveIndex(room: string, session: Session): void {
    const set = this.roomSessions.get(room);
    if (!set) return;
    set.delete(session);
    if (set.size === 0) {
      this.roomSessions.delete(room);
      this.slowCheck.delete(room);
    }
  }

  /** Commands that put this node's connections back into the actors `select` picks (after they were rebuilt). */
  reattachCommands(select: (kind: 'room' | 'user', id: string) => boolean): Command[] {
    const out: Command[] = [];
    for (const s of this.sessions.values()) out.push(...s.reattachCommands(select));
    return out;
  }

  /** Open authenticated connections per user on this node (cluster presence). */
  userConnections(): Map<string, number> {
    return new Map([...this.users].map(([user, entry]) => [user, entry.sessions.size]));
  }

  /**
   * Closes slow consumers (more than the backpressure limit queued), sessions that never said hello in
   * time, and sessions whose access token expired.
   */
  sweep(nowMs: number): void {
    const nowSec = Math.floor(nowMs / 1000);
    const maxQueued = this.limits.maxBackpressureBytes;
    for (const s of this.sessions.values()) {
      if (s.closed) continue;
      if (s.transport.bufferedAmount() > maxQueued) {
        s.close(CloseCode.SLOW_CONSUMER, 'slow consumer');
      } else if (s.claims === null) {
        if (nowMs - s.openedAt > this.limits.helloTimeoutMs) s.close(CloseCode.HELLO_TIMEOUT, 'no hello in time');
      } else if (s.claims.exp <= nowSec) {
        s.close(CloseCode.TOKEN_EXPIRED, 'access token expired, reconnect with a fresh one');
      }
    }
  }

  /**
   * Closes every socket and forgets its session now (its leaves and disconnect are recorded now, not when
   * the transport gets round to reporting the close): what shutdown needs before it flushes analytics.
   */
  closeAll(code: number, reason: string): void {
    for (const s of [...this.sessions.values()]) {
      s.close(code, reason);
      this.remove(s);
    }
  }
}
