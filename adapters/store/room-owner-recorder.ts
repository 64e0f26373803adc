/**
 * Records rooms' owners in the realtime store (first owner wins), so a room actor knows who may host
 * before any socket joins. Used by the API when a creator starts a room; it opens the same store the
 * actor workers use (see open-realtime-store.ts), SQLite on one node and Redis in a cluster.
 */
import { emptyBatch, type RealtimeStore } from './realtime-store';
import { openRealtimeStore, type StoreSettings } from './open-realtime-store';

export class RoomOwnerRecorder {
  private constructor(private readonly store: RealtimeStore) {}

  static async open(settings: StoreSettings): Promise<RoomOwnerRecorder> {
    return new RoomOwnerRecorder(await openRealtimeStore(settings));
  }

  /** The store handle it writes through (the API also drains the notification outbox with it). */
  get realtimeStore(): RealtimeStore {
    return this.store;
  }

  async record(room: string, owner: string): Promise<void> {
    const batch = emptyBatch();
    batch.roomOwners.push({ room, owner });
    await this.store.commit(batch);
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
