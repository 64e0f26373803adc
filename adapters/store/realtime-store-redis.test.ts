import t from 'tap';
import { RedisRealtimeStore } from './realtime-store-redis';
import { realtimeStoreConformance } from './realtime-store.conformance';
import { emptyBatch } from './realtime-store';
import { engineUrl } from '../../test/helpers/services';

const url = engineUrl(t, 'redis');
if (url) {
  // One prefix for the whole suite, reopened per test: the suite proves durability across connections.
  const prefix = `hbtest:${process.pid}:${Date.now()}:`;
  realtimeStoreConformance(t, 'redis', () => RedisRealtimeStore.connect(url, { prefix }));

  t.test('redis: touched keys carry a TTL, so abandoned rooms and inboxes expire', async (t) => {
    const store = await RedisRealtimeStore.connect(url, { prefix, roomTtlMs: 60_000, inboxTtlMs: 120_000 });
    t.teardown(() => store.close());
    const { default: Redis } = await import('ioredis');
    const redis = new Redis(url);
    t.teardown(() => redis.quit());
    const batch = emptyBatch();
    batch.roomEvents.push({ room: 'ttl', seq: 1, ts: 1, sender: 'a', frame: new Uint8Array([1]) });
    batch.inbox.push({ user: 'ttl-user', seq: 1, ts: 1, from: 'a', text: 'hi' });
    await store.commit(batch);
    const roomTtl = await redis.pttl(`${prefix}rt:room:ttl`);
    const historyTtl = await redis.pttl(`${prefix}rt:room:ttl:history`);
    const inboxTtl = await redis.pttl(`${prefix}rt:inbox:ttl-user:msgs`);
    t.ok(roomTtl > 50_000 && roomTtl <= 60_000, `room state TTL ${roomTtl}`);
    t.ok(historyTtl > 50_000 && historyTtl <= 60_000, `history TTL ${historyTtl}`);
    t.ok(inboxTtl > 110_000 && inboxTtl <= 120_000, `inbox TTL ${inboxTtl}`);
    const raw = await redis.zrangeBuffer(`${prefix}rt:room:ttl:history`, '0', '-1');
    t.equal(raw[0]![0]! & 0xf0, 0x90, 'history members are MessagePack arrays, not JSON');
  });
}
