import t from 'tap';
import { MongoPlayStore } from './play-store-mongo';
import { playStoreConformance } from './play-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'play_test');
  playStoreConformance(t, 'mongodb', () => MongoPlayStore.connect(database()));
}
