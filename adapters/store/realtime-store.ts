/**
 * RealtimeStore: what room and user actors persist so that a restarted worker (or, later, another node)
 * rebuilds them. Actors batch their writes per turn and send nothing to clients until `commit` resolves,
 * so every frame a client ever saw is recoverable from here.
 *
 * Contract for implementations:
 * - `commit` applies a batch atomically where the engine allows it (one SQLite transaction) and otherwise
 *   in order, each write idempotent by its natural key (room+seq, user+seq), so replaying a batch after a
 *   crash changes nothing.
 * - Commits resolve in the order they were issued.
 * - Loads see every commit that resolved before they were called.
 */

import type { Erasure, ErasureCounts, PersonalExport } from '../privacy/personal-data';
export interface StoredRoomEvent {
  readonly room: string;
  readonly seq: number;
  readonly ts: number;
  /** User who caused the event (kept for moderation and GDPR erasure). */
  readonly sender: string;
  /** The exact server frame that was broadcast, replayed verbatim on resume. */
  readonly frame: Uint8Array;
  /** Set for money events (gifts): the ledger op id. Such events are never pruned. */
  readonly opId?: string;
}

export interface InboxMessage {
  readonly user: string;
  readonly seq: number;
  readonly ts: number;
  readonly from: string;
  readonly text: string;
}

export interface RoomSnapshot {
  readonly owner: string | null;
  readonly seq: number;
  /** The live stream's id, or null when the room is not live. */
  readonly stream: string | null;
  /** Gift events of the live stream: which ledger op ids already have a seq. */
  readonly streamGifts: readonly { opId: string; seq: number }[];
  /** Newest events, oldest first, at most the requested limit. */
  readonly history: readonly { seq: number; frame: Uint8Array }[];
  /** Cluster: log position of the last room command applied (-1: none); replays at or below it are skipped. */
  readonly applied: number;
  /** The room's keyed state: its games (a wheel, open duels) and its moderation (`mod`), by key. */
  readonly state: readonly StoredRoomState[];
}

/**
 * A piece of room state as a room stores it: JSON under a key (`wheel`, `duel:<id>`, `mod`); `rev` only
 * grows per key, null state removes it. (Stored as `room_games` / `:games`, named for their first use.)
 */
export interface StoredRoomState {
  readonly key: string;
  readonly rev: number;
  readonly state: string;
}

export interface InboxSnapshot {
  readonly lastSeq: number;
  readonly ackedSeq: number;
  /** Unacknowledged messages, oldest first, at most the requested limit. */
  readonly pending: readonly InboxMessage[];
  /** Cluster: log position of the last direct message stored (-1: none); replays at or below it are skipped. */
  readonly applied: number;
}

export interface WriteBatch {
  readonly roomEvents: StoredRoomEvent[];
  readonly roomOwners: { room: string; owner: string }[];
  /** Start (stream id) or end (null) of a room's live stream; `startSeq` is the seq of its ROOM_LIVE event. */
  readonly roomStreams: { room: string; stream: string | null; startSeq: number }[];
  /**
   * Replace the frame of an event the room already stored (a deleted chat message becomes its tombstone, at
   * the same seq so resume has no gap); nothing happens when that seq is not stored (pruned or never).
   */
  readonly roomRedactions: { room: string; seq: number; frame: Uint8Array }[];
  /** Drop events of `room` with seq below `belowSeq` (history retention); gift events are kept. */
  readonly roomPrunes: { room: string; belowSeq: number }[];
  readonly inbox: InboxMessage[];
  readonly inboxAcks: { user: string; upTo: number }[];
  /** Cluster: the newest command position a room applied (kept as a maximum). */
  readonly roomApplied: { room: string; position: number }[];
  /** Cluster: the newest command position a user's inbox applied (kept as a maximum). */
  readonly inboxApplied: { user: string; position: number }[];
  /** A new state under a key (null: finished, removed); a write whose rev is not above the stored one changes nothing. */
  readonly roomState: { room: string; key: string; rev: number; state: string | null }[];
  /** Notifications the turn's events cause (a DM to someone offline), written with them: the notification outbox. */
  readonly notify: OutboxNotification[];
}

/** A notification an actor's turn caused, waiting for the API's notifier (written once per id). */
export interface OutboxNotification {
  readonly id: string;
  readonly user: string;
  readonly kind: string;
  readonly data: Record<string, string | number>;
  readonly at: number;
}

export function emptyBatch(): WriteBatch {
  return { roomEvents: [], roomOwners: [], roomStreams: [], roomRedactions: [], roomPrunes: [], inbox: [], inboxAcks: [], roomApplied: [], inboxApplied: [], roomState: [], notify: [] };
}

export function isBatchEmpty(b: WriteBatch): boolean {
  return b.roomEvents.length + b.roomOwners.length + b.roomStreams.length + b.roomRedactions.length + b.roomPrunes.length + b.inbox.length + b.inboxAcks.length + b.roomApplied.length + b.inboxApplied.length + b.roomState.length + b.notify.length === 0;
}

export interface RealtimeStore {
  loadRoom(room: string, historyLimit: number): Promise<RoomSnapshot>;
  loadInbox(user: string, limit: number): Promise<InboxSnapshot>;
  commit(batch: WriteBatch): Promise<void>;
  /** One stored room event's frame (a report snapshots the chat message it names), or null when not stored. */
  roomEvent(room: string, seq: number): Promise<{ seq: number; frame: Uint8Array } | null>;
  /** The oldest notifications in the outbox (the relay hands them to the notifier, then acknowledges). */
  pendingNotifications(limit: number): Promise<OutboxNotification[]>;
  ackNotifications(ids: readonly string[]): Promise<void>;
  /** A user's data here: room events they sent (frames decoded), direct messages both ways. */
  exportUser(user: string): Promise<PersonalExport>;
  /**
   * Erasure: every stored room event that names the user is replaced by what `rewrite` makes of it (the
   * caller knows the protocol: their own events become tombstones at the same seq, others' lose the id);
   * their inbox goes, DMs they sent keep their place in others' inboxes with sender pseudonymised and the text removed.
   */
  eraseUser(erasure: Erasure, rewrite: FrameRewrite): Promise<ErasureCounts>;
  close(): Promise<void>;
}

/** Rewrites one stored room event for an erasure. */
export type FrameRewrite = (event: { room: string; seq: number; ts: number; sender: string; frame: Uint8Array }) => Uint8Array;
