import t from 'tap';
import { MongoAccountStore } from './account-store-mongo';
import { accountStoreConformance } from './account-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'accounts_test');
  accountStoreConformance(t, 'mongodb', () => MongoAccountStore.connect(database()));
}
