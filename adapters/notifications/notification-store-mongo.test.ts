import t from 'tap';
import { MongoClient } from 'mongodb';
import { MongoNotificationStore } from './notification-store-mongo';
import { notificationStoreConformance } from './notification-store.conformance';
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
  notificationStoreConformance(t, 'mongodb', async () => {
    const url = new URL(base);
    url.pathname = `/notes_test_${process.pid}_${Date.now()}_${n++}`;
    created.push(url.pathname.slice(1));
    return MongoNotificationStore.connect(url.toString());
  });
}
