import t from 'tap';
import { MongoRoomDirectory } from './room-directory-mongo';
import { roomDirectoryConformance } from './room-directory.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'rooms_test');
  roomDirectoryConformance(t, 'mongodb', () => MongoRoomDirectory.connect(database()));
}

if (base) {
  t.test('mongodb: a lock a crash left behind does not keep the host off the air', async (t) => {
    const url = freshMongoDatabases(t, base, 'rooms_stale')();
    const d = await MongoRoomDirectory.connect(url);
    t.teardown(() => d.close());
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(url);
    await client.connect();
    t.teardown(() => client.close());
    const locks = client.db().collection<{ _id: string; room: string; at: number }>('live_hosts');
    // Died between the lock and the room, a minute ago.
    await locks.insertOne({ _id: 'h-crashed', room: 'never-made', at: Date.now() - 60_000 });
    t.equal(await d.create({ id: 'fresh', owner: 'h-crashed', title: 't', country: null, locale: null, live: true, startedAt: 1, endedAt: null }), 'created');
    // Died between ending the room and removing its lock.
    await d.create({ id: 'old', owner: 'h-ended', title: 't', country: null, locale: null, live: true, startedAt: 1, endedAt: null });
    await client.db().collection('rooms').updateOne({ _id: 'old' as unknown as never }, { $set: { live: false, ended_at: 2 } });
    t.equal(await d.create({ id: 'new', owner: 'h-ended', title: 't', country: null, locale: null, live: true, startedAt: 3, endedAt: null }), 'created');
    // A fresh lock without its room is a create in flight: it holds.
    await locks.insertOne({ _id: 'h-busy', room: 'in-flight', at: Date.now() });
    t.same(await d.create({ id: 'second', owner: 'h-busy', title: 't', country: null, locale: null, live: true, startedAt: 1, endedAt: null }), { liveRoom: 'in-flight' });
  });
}
