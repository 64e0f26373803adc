import t from 'tap';
import { MongoNotificationStore } from './notification-store-mongo';
import { notificationStoreConformance } from './notification-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'notes_test');
  notificationStoreConformance(t, 'mongodb', () => MongoNotificationStore.connect(database()));
}
