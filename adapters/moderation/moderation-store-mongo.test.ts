import t from 'tap';
import { MongoModerationStore } from './moderation-store-mongo';
import { moderationStoreConformance } from './moderation-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'moderation_test');
  moderationStoreConformance(t, 'mongodb', () => MongoModerationStore.connect(database()));
}
