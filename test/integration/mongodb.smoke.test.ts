import t from 'tap';
import { MongoClient, MongoServerError } from 'mongodb';
import { engineUrl } from '../helpers/services';

const url = engineUrl(t, 'mongodb');
if (url) {
  t.test('mongodb driver: insert, find, unique-index violation, conditional update (FerretDB)', async (t) => {
    const client = new MongoClient(url, { serverSelectionTimeoutMS: 5000 });
    await client.connect();
    t.teardown(() => client.close());
    const coll = client.db().collection(`smoke_${process.pid}_${Date.now()}`);
    t.teardown(() => coll.drop().catch(() => undefined));
    await coll.createIndex({ opId: 1 }, { unique: true });
    await coll.insertOne({ opId: 'op-1', user: 'alice', balance: 100 });
    const found = await coll.findOne({ opId: 'op-1' });
    t.equal(found?.user, 'alice');
    const dup = await coll.insertOne({ opId: 'op-1', user: 'mallory', balance: 1 }).catch((e: unknown) => e);
    t.ok(dup instanceof MongoServerError, 'duplicate is refused');
    t.equal((dup as MongoServerError).code, 11000, 'with duplicate-key code 11000');
    // The single-document conditional update the ledger relies on: debit only when the balance covers it.
    const debit = await coll.updateOne({ opId: 'op-1', balance: { $gte: 30 } }, { $inc: { balance: -30 } });
    t.equal(debit.modifiedCount, 1);
    const refused = await coll.updateOne({ opId: 'op-1', balance: { $gte: 500 } }, { $inc: { balance: -500 } });
    t.equal(refused.modifiedCount, 0, 'an uncovered debit matches nothing');
    t.equal((await coll.findOne({ opId: 'op-1' }))?.balance, 70);
  });
}
