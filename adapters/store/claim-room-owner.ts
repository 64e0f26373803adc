/**
 * Records a room's owner in the embedded realtime store (first owner wins), so the room actor knows who
 * may host before any socket joins. Used by the API when a creator starts a room; the API process must
 * share the data folder with the socket nodes until the RealtimeStore has a networked adapter.
 */
import { join } from 'node:path';
import { emptyBatch } from './realtime-store';
import { SqliteRealtimeStore } from './realtime-store-sqlite';

const open = new Map<string, SqliteRealtimeStore>();

export async function claimRoomOwner(dataDir: string, room: string, owner: string): Promise<void> {
  const file = join(dataDir, 'realtime.sqlite');
  let store = open.get(file);
  if (!store) open.set(file, (store = new SqliteRealtimeStore(file)));
  const batch = emptyBatch();
  batch.roomOwners.push({ room, owner });
  await store.commit(batch);
}
