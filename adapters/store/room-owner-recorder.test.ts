import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../config/config';
import { RoomOwnerRecorder } from './room-owner-recorder';
import { openRealtimeStore, realtimeStoreSettings } from './open-realtime-store';
import { engineUrl } from '../../test/helpers/services';

t.test('one node: the owner lands in the node\'s SQLite store, where its actors read it', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-owner-'));
  const settings = realtimeStoreSettings(loadConfig({ HALOBUZZ_DATA_DIR: dataDir }));
  t.equal(settings.kind, 'sqlite');
  const recorder = await RoomOwnerRecorder.open(settings);
  await recorder.record('solo-room', 'creator-1');
  await recorder.close();
  const store = await openRealtimeStore(settings);
  t.teardown(() => store.close());
  t.equal((await store.loadRoom('solo-room', 10)).owner, 'creator-1');
});

const redis = engineUrl(t, 'redis');
if (redis) {
  t.test('cluster: the API records the owner in Redis, the store every node\'s actors read', async (t) => {
    const prefix = `ownertest${process.pid}`;
    const config = loadConfig({ KAFKA_BROKERS: '127.0.0.1:1', REDIS_URL: redis, HALOBUZZ_KAFKA_TOPIC_PREFIX: prefix });
    const settings = realtimeStoreSettings(config);
    t.equal(settings.kind, 'redis', 'a cluster configuration picks Redis');
    const recorder = await RoomOwnerRecorder.open(settings);
    await recorder.record('shared-room', 'creator-2');
    await recorder.record('shared-room', 'usurper');
    await recorder.close();
    const store = await openRealtimeStore(settings);
    t.teardown(() => store.close());
    t.equal((await store.loadRoom('shared-room', 10)).owner, 'creator-2', 'first owner wins, read back through the actors\' store');
  });
}
