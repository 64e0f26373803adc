import t from 'tap';
import { MongoClient } from 'mongodb';
import { MongoFollowStore } from './follow-store-mongo';
import { followStoreConformance } from './follow-store.conformance';
import { engineUrl } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const created: string[] = [];
  t.teardown(async () => {
    const c = new MongoClient(base);
    await c.connect();
    for (const name of created) await c.db(name).dropDatabase();
    await c.close();
  });
  let n = 0;
  followStoreConformance(t, 'mongodb', async () => {
    const url = new URL(base);
    url.pathname = `/follows_test_${process.pid}_${Date.now()}_${n++}`;
    created.push(url.pathname.slice(1));
    return MongoFollowStore.connect(url.toString());
  });
}
