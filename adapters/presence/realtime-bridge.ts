/**
 * RealtimeBridge: what the HTTP API needs from socket nodes that may live in other processes: live viewer
 * counts, and delivery of session revocations and stream ends. In one process the core answers directly
 * (LocalBridge); across processes the Redis bridge carries it (redis-bridge.ts).
 */
export interface RealtimeBridge {
  /** Viewers per room, summed over every socket node. */
  viewerCounts(rooms: readonly string[]): Promise<Map<string, number>>;
  /** Every socket node refuses these sessions' tokens and closes their sockets (4005). */
  revokeSessions(sids: readonly string[]): Promise<void>;
  /** The room actor ends the live stream. */
  endStream(room: string, owner: string): Promise<void>;
}

/** Socket-node side: what a bridge delivers into this process. */
export interface RealtimeNode {
  viewers(room: string): number;
  /** Rooms with at least one local viewer and their counts. */
  localViewerCounts(): Map<string, number>;
  revoke(sids: readonly string[]): void;
  endStream(room: string, owner: string): void;
}
