/**
 * Messages between the socket core (main thread) and actor workers. Both directions travel as one
 * MessagePack-encoded batch per event-loop turn, transferred (not cloned) as an ArrayBuffer. Tuples keep
 * the batches small; the builders (`cmd.*`, `eff.*`) and readers (`readCommand`) below are the only code
 * that knows the positions: everyone else works with named fields.
 */
import type { Role } from '../protocol/codes';

export const Cmd = {
  JOIN: 1,
  LEAVE: 2,
  CHAT: 3,
  ONLINE: 4,
  OFFLINE: 5,
  DM: 6,
  INBOX_ACK: 7,
  GIFT: 8,
  ROOM_END: 9,
  WALLET: 10,
  /** Cluster: a node died; actors forget its connections (never sent by clients). */
  PURGE_NODE: 11,
  /** A game action in a room (list, start, stop, bet, challenge, accept, commit, reveal, forfeit). */
  GAME: 12,
  /** A room moderation action (host, moderator, staff or the platform through the API). */
  MOD: 13,
} as const;

/** conn, user, room, role, ref, sinceSeq (-1: none), reattach (1 after a worker restart), device ('' unknown), country ('' unknown) */
export type JoinCmd = [typeof Cmd.JOIN, number, string, string, Role, number, number, 0 | 1, string, string];
/** conn, user, room, ref (0: the connection closed, no reply) */
export type LeaveCmd = [typeof Cmd.LEAVE, number, string, string, number];
/** conn, user, room, ref, text, flags (ChatFlag bits) */
export type ChatCmd = [typeof Cmd.CHAT, number, string, string, number, string, number];

/** What the core knows about a chat's sender that the room does not: bits of ChatCmd's flags. */
export const ChatFlag = {
  /** Staff shadow-muted the sender: the message reaches only the sender's own connections. */
  SHADOW_MUTED: 1,
  /** The sender is staff (role admin): room chat limits (slow mode, followers-only) do not apply. */
  STAFF: 2,
} as const;
/** conn, user, reattach */
export type OnlineCmd = [typeof Cmd.ONLINE, number, string, 0 | 1];
/** conn, user */
export type OfflineCmd = [typeof Cmd.OFFLINE, number, string];
/** conn, fromUser, toUser, ref, text */
export type DmCmd = [typeof Cmd.DM, number, string, string, number, string];
/** conn, user, ref, upTo */
export type InboxAckCmd = [typeof Cmd.INBOX_ACK, number, string, number, number];

/** conn, user, room, ref, giftId, count, opId */
export type GiftCmd = [typeof Cmd.GIFT, number, string, string, number, string, number, string];
/** conn, user, room, ref */
export type RoomEndCmd = [typeof Cmd.ROOM_END, number, string, string, number];
/** conn, user, ref */
export type WalletCmd = [typeof Cmd.WALLET, number, string, number];

/**
 * conn, user, room, ref, action, args (the action's arguments as the protocol gave them), play context
 * [country ('' unknown), account created at (ms, 0 unknown)] for responsible-play checks.
 */
export type GameCmd = [typeof Cmd.GAME, number, string, string, number, string, unknown[], [string, number]];

/** conn (0: the platform), user (who acts), room, ref, action, args (as the protocol gave them), staff (1: role admin or the platform) */
export type ModCmd = [typeof Cmd.MOD, number, string, string, number, string, unknown[], 0 | 1];

/** node number whose connections are gone */
export type PurgeNodeCmd = [typeof Cmd.PURGE_NODE, number];

export type RoomCommand = JoinCmd | LeaveCmd | ChatCmd | GiftCmd | RoomEndCmd | GameCmd | ModCmd;
export type UserCommand = OnlineCmd | OfflineCmd | DmCmd | InboxAckCmd | WalletCmd;
export type Command = RoomCommand | UserCommand;
/** Commands for every actor of a worker (not routed by id). */
export type BroadcastCommand = PurgeNodeCmd;

/**
 * Connection ids are unique across a cluster: the node's number (from Redis) times 2^32 plus a local
 * counter, so any node can tell where a connection lives. A single node is node 0.
 */
export const CONN_SPACE = 2 ** 32;
export function nodeOfConn(conn: number): number {
  return Math.floor(conn / CONN_SPACE);
}

/** Tuple length of each command; a cluster appends the command's log position after it. */
const COMMAND_LENGTH: Record<number, number> = {
  [Cmd.JOIN]: 10, [Cmd.LEAVE]: 5, [Cmd.CHAT]: 7, [Cmd.GIFT]: 8, [Cmd.ROOM_END]: 5, [Cmd.GAME]: 8, [Cmd.MOD]: 8,
  [Cmd.ONLINE]: 4, [Cmd.OFFLINE]: 3, [Cmd.DM]: 6, [Cmd.INBOX_ACK]: 5, [Cmd.WALLET]: 4,
};

/**
 * The position (Kafka offset in the command's partition) a cluster stamped on a command, or -1 (one node,
 * or not a command). Positions only grow for one room or user, so a rebuilt actor skips commands at or
 * below the last one it applied.
 */
export function positionOf(c: Command): number {
  const length = COMMAND_LENGTH[c[0]];
  const at = length === undefined ? undefined : (c as unknown as unknown[])[length];
  return typeof at === 'number' ? at : -1;
}

/** A well-formed command tuple of a known op (what the cluster log must carry). */
export function isCommand(value: unknown): value is Command {
  if (!Array.isArray(value) || typeof value[0] !== 'number') return false;
  const length = COMMAND_LENGTH[value[0]];
  return length !== undefined && value.length >= length && typeof value[1] === 'number' && typeof value[2] === 'string';
}

export function withPosition<C extends Command>(c: C, position: number): C {
  const out = (c as unknown as unknown[]).slice(0, COMMAND_LENGTH[c[0]]!);
  out.push(position);
  return out as unknown as C;
}

/** The actor a command is addressed to: rooms by room id, users by the user the command concerns. */
export function commandTarget(c: Command): { kind: 'room' | 'user'; id: string } {
  switch (c[0]) {
    case Cmd.JOIN:
    case Cmd.LEAVE:
    case Cmd.CHAT:
    case Cmd.GIFT:
    case Cmd.ROOM_END:
    case Cmd.GAME:
    case Cmd.MOD:
      return { kind: 'room', id: c[3] };
    case Cmd.DM:
      return { kind: 'user', id: c[3] };
    default:
      return { kind: 'user', id: c[2] };
  }
}

/** The connection a command comes from (0: the platform, e.g. a stream ended through the API). */
export function connOf(c: Command): number {
  return c[1];
}

/** A connection going away (a leave without a ref, or offline): never refused, never reordered. */
export function isDisconnect(c: Command): boolean {
  return (c[0] === Cmd.LEAVE && c[4] === 0) || c[0] === Cmd.OFFLINE;
}

/** The request ref a command answers (0: none, e.g. a disconnect or a re-attach). */
export function refOf(c: Command): number {
  switch (c[0]) {
    case Cmd.JOIN:
      return c[5];
    case Cmd.LEAVE:
    case Cmd.CHAT:
    case Cmd.DM:
    case Cmd.GIFT:
    case Cmd.ROOM_END:
    case Cmd.GAME:
    case Cmd.MOD:
      return c[4];
    case Cmd.INBOX_ACK:
    case Cmd.WALLET:
      return c[3];
    default:
      return 0;
  }
}

/** Builds each command from named fields (the tuple layout stays here). */
export const cmd = {
  join: (c: { conn: number; user: string; room: string; role: Role; ref: number; sinceSeq: number; reattach: boolean; device?: string | null; country?: string | null }): JoinCmd =>
    [Cmd.JOIN, c.conn, c.user, c.room, c.role, c.ref, c.sinceSeq, c.reattach ? 1 : 0, c.device ?? '', c.country ?? ''],
  /** ref 0: the connection closed (no reply). */
  leave: (c: { conn: number; user: string; room: string; ref: number }): LeaveCmd => [Cmd.LEAVE, c.conn, c.user, c.room, c.ref],
  chat: (c: { conn: number; user: string; room: string; ref: number; text: string; flags?: number }): ChatCmd => [Cmd.CHAT, c.conn, c.user, c.room, c.ref, c.text, c.flags ?? 0],
  online: (c: { conn: number; user: string; reattach: boolean }): OnlineCmd => [Cmd.ONLINE, c.conn, c.user, c.reattach ? 1 : 0],
  offline: (c: { conn: number; user: string }): OfflineCmd => [Cmd.OFFLINE, c.conn, c.user],
  dm: (c: { conn: number; from: string; to: string; ref: number; text: string }): DmCmd => [Cmd.DM, c.conn, c.from, c.to, c.ref, c.text],
  inboxAck: (c: { conn: number; user: string; ref: number; upTo: number }): InboxAckCmd => [Cmd.INBOX_ACK, c.conn, c.user, c.ref, c.upTo],
  gift: (c: { conn: number; user: string; room: string; ref: number; giftId: string; count: number; opId: string }): GiftCmd =>
    [Cmd.GIFT, c.conn, c.user, c.room, c.ref, c.giftId, c.count, c.opId],
  /** conn 0 and ref 0: ended by the platform (the API), not by a socket request. */
  roomEnd: (c: { conn: number; user: string; room: string; ref: number }): RoomEndCmd => [Cmd.ROOM_END, c.conn, c.user, c.room, c.ref],
  wallet: (c: { conn: number; user: string; ref: number }): WalletCmd => [Cmd.WALLET, c.conn, c.user, c.ref],
  game: (c: { conn: number; user: string; room: string; ref: number; action: string; args: unknown[]; country: string | null; accountSince: number | null }): GameCmd =>
    [Cmd.GAME, c.conn, c.user, c.room, c.ref, c.action, c.args, [c.country ?? '', c.accountSince ?? 0]],
  /** conn 0 and ref 0: the platform (staff through the API). */
  mod: (c: { conn: number; user: string; room: string; ref: number; action: string; args: unknown[]; staff: boolean }): ModCmd =>
    [Cmd.MOD, c.conn, c.user, c.room, c.ref, c.action, c.args, c.staff ? 1 : 0],
  purgeNode: (node: number): PurgeNodeCmd => [Cmd.PURGE_NODE, node],
};

/** A command with named fields: what actors switch on (positions stay in this module). */
export type CommandView =
  | { kind: 'join'; conn: number; user: string; room: string; role: Role; ref: number; sinceSeq: number; reattach: boolean; device: string; country: string }
  | { kind: 'leave'; conn: number; user: string; room: string; ref: number }
  | { kind: 'chat'; conn: number; user: string; room: string; ref: number; text: string; flags: number }
  | { kind: 'online'; conn: number; user: string; reattach: boolean }
  | { kind: 'offline'; conn: number; user: string }
  | { kind: 'dm'; conn: number; from: string; to: string; ref: number; text: string }
  | { kind: 'inboxAck'; conn: number; user: string; ref: number; upTo: number }
  | { kind: 'gift'; conn: number; user: string; room: string; ref: number; giftId: string; count: number; opId: string }
  | { kind: 'roomEnd'; conn: number; user: string; room: string; ref: number }
  | { kind: 'wallet'; conn: number; user: string; ref: number }
  | { kind: 'game'; conn: number; user: string; room: string; ref: number; action: string; args: unknown[]; ctx: [string, number] }
  | { kind: 'mod'; conn: number; user: string; room: string; ref: number; action: string; args: unknown[]; staff: boolean }
  | { kind: 'purgeNode'; node: number };

export function readCommand(c: Command | BroadcastCommand): CommandView {
  switch (c[0]) {
    case Cmd.JOIN: {
      const [, conn, user, room, role, ref, sinceSeq, reattach, device, country] = c;
      return { kind: 'join', conn, user, room, role, ref, sinceSeq, reattach: reattach === 1, device: device ?? '', country: country ?? '' };
    }
    case Cmd.LEAVE: {
      const [, conn, user, room, ref] = c;
      return { kind: 'leave', conn, user, room, ref };
    }
    case Cmd.CHAT: {
      const [, conn, user, room, ref, text, flags] = c;
      return { kind: 'chat', conn, user, room, ref, text, flags: flags ?? 0 };
    }
    case Cmd.ONLINE: {
      const [, conn, user, reattach] = c;
      return { kind: 'online', conn, user, reattach: reattach === 1 };
    }
    case Cmd.OFFLINE: {
      const [, conn, user] = c;
      return { kind: 'offline', conn, user };
    }
    case Cmd.DM: {
      const [, conn, from, to, ref, text] = c;
      return { kind: 'dm', conn, from, to, ref, text };
    }
    case Cmd.INBOX_ACK: {
      const [, conn, user, ref, upTo] = c;
      return { kind: 'inboxAck', conn, user, ref, upTo };
    }
    case Cmd.GIFT: {
      const [, conn, user, room, ref, giftId, count, opId] = c;
      return { kind: 'gift', conn, user, room, ref, giftId, count, opId };
    }
    case Cmd.ROOM_END: {
      const [, conn, user, room, ref] = c;
      return { kind: 'roomEnd', conn, user, room, ref };
    }
    case Cmd.WALLET: {
      const [, conn, user, ref] = c;
      return { kind: 'wallet', conn, user, ref };
    }
    case Cmd.GAME: {
      const [, conn, user, room, ref, action, args, ctx] = c;
      return { kind: 'game', conn, user, room, ref, action, args, ctx };
    }
    case Cmd.MOD: {
      const [, conn, user, room, ref, action, args, staff] = c;
      return { kind: 'mod', conn, user, room, ref, action, args, staff: staff === 1 };
    }
    case Cmd.PURGE_NODE:
      return { kind: 'purgeNode', node: c[1] };
  }
}

export const Eff = {
  SEND: 1,
  PUBLISH: 2,
  SUBSCRIBE: 3,
  UNSUBSCRIBE: 4,
  CLOSE: 5,
  ANALYTICS: 6,
  /** Cluster only: the effects after this marker (until the next) come from this actor. */
  ORIGIN: 7,
} as const;

export type Effect =
  | [typeof Eff.SEND, number, Uint8Array]
  | [typeof Eff.PUBLISH, string, Uint8Array]
  /** Cluster only: a broadcast with the nodes holding the room's members when it was emitted (where it must go). */
  | [typeof Eff.PUBLISH, string, Uint8Array, readonly number[]]
  | [typeof Eff.SUBSCRIBE, number, string, Role]
  | [typeof Eff.UNSUBSCRIBE, number, string]
  | [typeof Eff.CLOSE, number, number, string]
  /** An analytics event (without node; the core adds it), for the AnalyticsSink. */
  | [typeof Eff.ANALYTICS, ActorAnalyticsEvent]
  | [typeof Eff.ORIGIN, 'room' | 'user', string];

/** An analytics event as an actor emits it (the core adds the node). */
export type ActorAnalyticsEvent = Omit<import('../adapters/analytics/analytics-sink').AnalyticsEvent, 'node'>;

/** The analytics events in an effect batch (null when none), to be recorded before the batch is applied. */
export function analyticsOf(effects: readonly Effect[]): ActorAnalyticsEvent[] | null {
  let events: ActorAnalyticsEvent[] | null = null;
  for (const e of effects) if (e[0] === Eff.ANALYTICS) (events ??= []).push(e[1]);
  return events;
}

/** Builds each effect from named arguments. */
export const eff = {
  /** One frame to one connection (a reply, an error, a replayed event, a DM). */
  send: (conn: number, frame: Uint8Array): Effect => [Eff.SEND, conn, frame],
  /** One encoded frame to every subscriber of a room. */
  publish: (room: string, frame: Uint8Array): Effect => [Eff.PUBLISH, room, frame],
  subscribe: (conn: number, room: string, role: Role): Effect => [Eff.SUBSCRIBE, conn, room, role],
  unsubscribe: (conn: number, room: string): Effect => [Eff.UNSUBSCRIBE, conn, room],
  close: (conn: number, code: number, reason: string): Effect => [Eff.CLOSE, conn, code, reason],
  analytics: (event: ActorAnalyticsEvent): Effect => [Eff.ANALYTICS, event],
  origin: (kind: 'room' | 'user', id: string): Effect => [Eff.ORIGIN, kind, id],
};

/** Control messages (plain objects, rare) from a worker to its supervisor. */
export type WorkerStatus =
  | { type: 'ready'; worker: number }
  /** `filtered`: chat filter decisions since the last stats, as [rule, action, count]. */
  | { type: 'stats'; worker: number; rooms: number; users: number; mailboxDepth: number; dropped: number; filtered?: [string, string, number][]; ledgerPending?: number; ledgerOldestMs?: number }
  | { type: 'drained'; worker: number }
  | { type: 'quiesced'; worker: number; id: number };

/** Control messages from the supervisor to a worker. */
export type WorkerControl =
  | { type: 'drain' }
  | { type: 'crash' }
  /** Reply `quiesced` once every mailbox is empty, deferred work settled and commits landed. */
  | { type: 'quiesce'; id: number }
  /** Drop the actors of these partitions (ownership moved); the next command rebuilds them from the store. */
  | { type: 'evict'; id: number; kind: 'room' | 'user'; partitions: number[]; count: number }
  | { type: 'broadcast'; command: BroadcastCommand };
