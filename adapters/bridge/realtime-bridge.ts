/**
 * The realtime bridge: the one seam between the HTTP API and the socket nodes, which may run in other
 * processes. `RealtimeBridge` is what the API calls (live viewer counts, session revocations, stream
 * ends); `RealtimeBridgeNode` is what a socket node exposes for a bridge to deliver into. In one process
 * `LocalBridge` connects them directly; across processes `RedisBridge` carries them.
 */
/** A live room as the socket nodes see it. */
export interface RoomPresence {
  /** Viewers, summed over every socket node. */
  readonly viewers: number;
  /**
   * The public socket URLs of the nodes already serving the room's viewers, most viewers first (nodes
   * without HALOBUZZ_PUBLIC_URL are left out): where a new viewer should connect, so a room's viewers
   * gather on few nodes and each node reads few rooms' events (docs/cluster.md § Placement).
   */
  readonly nodes: readonly string[];
}

export interface RealtimeBridge {
  /** Viewers and serving nodes per room (rooms nobody watches: 0 and no nodes). */
  roomPresence(rooms: readonly string[]): Promise<Map<string, RoomPresence>>;
  /** Every socket node refuses these sessions' tokens and closes their sockets (4005). */
  revokeSessions(sids: readonly string[]): Promise<void>;
  /** The room actor ends the live stream. */
  endStream(room: string, owner: string): Promise<void>;
  /** Sends an encoded server frame to every connection of `user`, on whichever node holds it. */
  deliver(user: string, frame: Uint8Array): Promise<void>;
  /** A room moderation action by staff (`by`), applied by the room's actor as a MOD request would be. */
  moderate(room: string, by: string, action: string, args: readonly unknown[]): Promise<void>;
  /** Every socket node shadow-mutes `user` until `until` (ms; null lifts it). */
  shadowMute(user: string, until: number | null): Promise<void>;
  /** Every socket node drops (or again records) `user`'s analytics events. */
  analyticsOptOut(user: string, declined: boolean): Promise<void>;
}

/** A socket node's end of the bridge: what a bridge delivers into this process. */
export interface RealtimeBridgeNode {
  viewers(room: string): number;
  /** Rooms with at least one local viewer and their counts. */
  localViewerCounts(): Map<string, number>;
  revoke(sids: readonly string[]): void;
  endStream(room: string, owner: string): void;
  /** Sends a frame to this node's connections of `user`. */
  deliver(user: string, frame: Uint8Array): void;
  moderate(room: string, by: string, action: string, args: readonly unknown[]): void;
  shadowMute(user: string, until: number | null): void;
  analyticsOptOut(user: string, declined: boolean): void;
}
