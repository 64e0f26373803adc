/**
 * Messages between the socket core (main thread) and actor workers. Both directions travel as one
 * MessagePack-encoded batch per event-loop turn, transferred (not cloned) as an ArrayBuffer. Tuples keep
 * the batches small; the builders below are the only code that knows the positions.
 */
import type { Role } from '../core/protocol/codes';

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
} as const;

/** conn, user, room, role, ref, sinceSeq (-1: none), reattach (1 after a worker restart) */
export type JoinCmd = [typeof Cmd.JOIN, number, string, string, Role, number, number, 0 | 1];
/** conn, user, room, ref (0: the connection closed, no reply) */
export type LeaveCmd = [typeof Cmd.LEAVE, number, string, string, number];
/** conn, user, room, ref, text */
export type ChatCmd = [typeof Cmd.CHAT, number, string, string, number, string];
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

/** node number whose connections are gone */
export type PurgeNodeCmd = [typeof Cmd.PURGE_NODE, number];

export type RoomCommand = JoinCmd | LeaveCmd | ChatCmd | GiftCmd | RoomEndCmd;
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
  [Cmd.JOIN]: 8, [Cmd.LEAVE]: 5, [Cmd.CHAT]: 6, [Cmd.GIFT]: 8, [Cmd.ROOM_END]: 5,
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
      return { kind: 'room', id: c[3] };
    case Cmd.DM:
      return { kind: 'user', id: c[3] };
    default:
      return { kind: 'user', id: c[2] };
  }
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
      return c[4];
    case Cmd.INBOX_ACK:
    case Cmd.WALLET:
      return c[3];
    default:
      return 0;
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
  | [typeof Eff.SUBSCRIBE, number, string, Role]
  | [typeof Eff.UNSUBSCRIBE, number, string]
  | [typeof Eff.CLOSE, number, number, string]
  /** An analytics event (without node; the core adds it), for the AnalyticsSink. */
  | [typeof Eff.ANALYTICS, Omit<import('../adapters/analytics/analytics-sink').AnalyticsEvent, 'node'>]
  | [typeof Eff.ORIGIN, 'room' | 'user', string];

/** Control messages (plain objects, rare) from a worker to its supervisor. */
export type WorkerStatus =
  | { type: 'ready'; worker: number }
  | { type: 'stats'; worker: number; rooms: number; users: number; mailboxDepth: number; dropped: number }
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
