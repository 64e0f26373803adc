/**
 * The realtime store on a single Redis and on a 3-master Redis Cluster (both from deploy/local): the same
 * conformance suite, plus TTLs and the key layout (every key of a room shares its slot).
 */
import t, { type Test } from 'tap';
import { RedisRealtimeStore } from './realtime-store-redis';
import { realtimeStoreConformance } from './realtime-store.conformance';
import { emptyBatch } from './realtime-store';
import { engineUrl, type Engine } from '../../test/helpers/services';
import { openRedis } from '../redis/open-redis';

function suite(t: Test, engine: Engine): void {
  const url = engineUrl(t, engine);
  if (!url) return;
  // One prefix for the whole suite, reopened per test: the suite proves durability across connections.
  const prefix = `hbtest:${process.pid}:${Date.now()}:`;
  realtimeStoreConformance(t, engine, () => RedisRealtimeStore.connect(url, { prefix }));

  t.test(`${engine}: touched keys carry a TTL, so abandoned rooms and inboxes expire`, async (t) => {
    const store = await RedisRealtimeStore.connect(url, { prefix, roomTtlMs: 60_000, inboxTtlMs: 120_000 });
    t.teardown(() => store.close());
    const redis = await openRedis(url);
    t.teardown(() => redis.quit());
    const batch = emptyBatch();
    batch.roomEvents.push({ room: 'ttl', seq: 1, ts: 1, sender: 'a', frame: new Uint8Array([1]) });
    batch.inbox.push({ user: 'ttl-user', seq: 1, ts: 1, from: 'a', text: 'hi' });
    await store.commit(batch);
    const roomTtl = await redis.pttl(`${prefix}rt:room:{ttl}`);
    const historyTtl = await redis.pttl(`${prefix}rt:room:{ttl}:history`);
    const inboxTtl = await redis.pttl(`${prefix}rt:inbox:{ttl-user}:msgs`);
    t.ok(roomTtl > 50_000 && roomTtl <= 60_000, `room state TTL ${roomTtl}`);
    t.ok(historyTtl > 50_000 && historyTtl <= 60_000, `history TTL ${historyTtl}`);
    t.ok(inboxTtl > 110_000 && inboxTtl <= 120_000, `inbox TTL ${inboxTtl}`);
    const raw = await redis.zrangeBuffer(`${prefix}rt:room:{ttl}:history`, '0', '-1');
    t.equal(raw[0]![0]! & 0xf0, 0x90, 'history members are MessagePack arrays, not JSON');
  });

  t.test(`${engine}: one commit over many rooms and inboxes lands whole`, async (t) => {
    const store = await RedisRealtimeStore.connect(url, { prefix: `${prefix}many:` });
    t.teardown(() => store.close());
    const batch = emptyBatch();
    // 60 rooms and 60 inboxes: on a cluster they spread over all three masters.
    for (let i = 0; i < 60; i++) {
      batch.roomEvents.push({ room: `many-${i}`, seq: 1, ts: i, sender: 'a', frame: new Uint8Array([i]) });
      batch.roomApplied.push({ room: `many-${i}`, position: 100 + i });
      batch.inbox.push({ user: `u-${i}`, seq: 1, ts: i, from: 'a', text: `dm ${i}` });
    }
    batch.notify.push({ id: 'n-1', user: 'u-1', kind: 'follow', data: { from: 'a' }, at: 5 });
    await store.commit(batch);
    await store.commit(batch); // a replay changes nothing
    for (let i = 0; i < 60; i++) {
      const room = await store.loadRoom(`many-${i}`, 10);
      if (room.seq !== 1 || room.applied !== 100 + i || room.history.length !== 1) t.fail(`room many-${i}: ${JSON.stringify({ seq: room.seq, applied: room.applied, history: room.history.length })}`);
      const inbox = await store.loadInbox(`u-${i}`, 10);
      if (inbox.lastSeq !== 1 || inbox.pending.length !== 1) t.fail(`inbox u-${i}: ${JSON.stringify(inbox)}`);
    }
    t.pass('every room and inbox has its writes, once');
    t.same((await store.pendingNotifications(10)).map((n) => n.id), ['n-1'], 'the notification is in the outbox once');
  });
}

t.test('a single Redis', async (t) => suite(t, 'redis'));
t.test('a 3-master Redis Cluster', async (t) => suite(t, 'redis-cluster'));
