/**
 * Records rooms' owners in the embedded realtime store (first owner wins), so a room actor knows who may
 * host before any socket joins. Used by the API when a creator starts a room; the API process must share
 * the data folder with the socket nodes until the RealtimeStore has a networked adapter.
 */
import { join } from 'node:path';
import { emptyBatch } from './realtime-store';
import { SqliteRealtimeStore } from './realtime-store-sqlite';

export class RoomOwnerRecorder {
  private readonly store: SqliteRealtimeStore;

  constructor(dataDir: string) {
    this.store = new SqliteRealtimeStore(join(dataDir, 'realtime.sqlite'));
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
