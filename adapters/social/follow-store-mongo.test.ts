import t from 'tap';
import { MongoFollowStore } from './follow-store-mongo';
import { followStoreConformance } from './follow-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'follows_test');
  followStoreConformance(t, 'mongodb', () => MongoFollowStore.connect(database()));
}
