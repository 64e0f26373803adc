import t from 'tap';
import { MongoPurchaseStore } from './purchase-store-mongo';
import { purchaseStoreConformance } from './purchase-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'purchases_test');
  purchaseStoreConformance(t, 'mongodb', () => MongoPurchaseStore.connect(database()));
}
