import t from 'tap';
import { MongoClient } from 'mongodb';
import { MongoClaims, type ClaimDoc, type Holding } from './mongo-claims';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  t.test('claims: one owner per key; a claim whose holder is gone (and old) or released is taken over; a young one holds', async (t) => {
    const client = new MongoClient(freshMongoDatabases(t, base, 'claims_test')());
    await client.connect();
    t.teardown(() => client.close());
    const col = client.db().collection<ClaimDoc>('claims');
    const holders = new Map<string, Holding>();
    const claims = new MongoClaims(col, async (owner) => holders.get(owner) ?? 'gone', 1000);
    holders.set('a', 'held');
    t.ok(await claims.claim('k1', 'a', 10_000));
    t.ok(await claims.claim('k1', 'a', 10_001), 'the owner again');
    t.notOk(await claims.claim('k1', 'b', 10_002), 'held by a');
    holders.set('a', 'released');
    t.ok(await claims.claim('k1', 'b', 10_003), 'a no longer needs it: b takes it over');
    t.match(await col.findOne({ _id: 'k1' }), { owner: 'b' });
    // A claim whose holder never appeared: in flight while young, stale when old.
    await col.insertOne({ _id: 'k2', owner: 'crashed', at: 20_000 });
    t.notOk(await claims.claim('k2', 'c', 20_500), 'young: a write in flight');
    t.ok(await claims.claim('k2', 'c', 21_500), 'old: left by a crash, taken over');
    holders.set('c', 'held');
    // All or none.
    holders.set('d', 'held');
    holders.set('b', 'held');
    t.notOk(await claims.claimAll(['k3', 'k1'], 'd', 30_000), 'k1 is b\'s: none taken');
    t.equal(await col.findOne({ _id: 'k3' }), null, 'k3 was given up again');
    const racing = await Promise.all(['e', 'f', 'g', 'h'].map((o) => claims.claim('k4', o, 40_000)));
    t.equal(racing.filter(Boolean).length, 1, 'four racing for a free key: one wins');
    await claims.release('k4', 'nobody');
    t.ok(await col.findOne({ _id: 'k4' }), 'only its owner releases a claim');
  });
}

if (base) {
  t.test('lock: one holder at a time across racing callers; a lock left by a dead holder is taken over', async (t) => {
    const { MongoLock } = await import('./mongo-lock');
    const client = new MongoClient(freshMongoDatabases(t, base, 'lock_test')());
    await client.connect();
    t.teardown(() => client.close());
    const col = client.db().collection<{ _id: string; at: number; holder: string }>('locks');
    const lock = new MongoLock(col, { staleMs: 500, waitMs: 5000 });
    let inside = 0;
    let most = 0;
    let counter = 0;
    await Promise.all(Array.from({ length: 8 }, () => lock.with('k', async () => {
      inside++;
      most = Math.max(most, inside);
      const seen = counter;
      await new Promise((r) => setTimeout(r, 5));
      counter = seen + 1;
      inside--;
    })));
    t.equal(most, 1, 'never two holders at once');
    t.equal(counter, 8, 'no read-modify-write lost');
    await col.insertOne({ _id: 'dead', at: Date.now() - 10_000, holder: 'gone' });
    t.equal(await lock.with('dead', async () => 'ran'), 'ran', 'a stale lock does not block for ever');
    t.equal(await col.countDocuments({}), 0, 'every lock and marker was removed');
    await col.insertOne({ _id: 'busy', at: Date.now(), holder: 'alive' });
    const quick = new MongoLock(col, { staleMs: 60_000, waitMs: 100 });
    await t.rejects(quick.with('busy', async () => 'never'), /busy/, 'a live lock makes the caller give up after its wait');
  });
}
