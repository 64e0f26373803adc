import t from 'tap';
import { MongoPayoutStore } from './payout-store-mongo';
import { payoutStoreConformance } from './payout-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'payouts_test');
  payoutStoreConformance(t, 'mongodb', () => MongoPayoutStore.connect(database()));
}
