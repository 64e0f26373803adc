import t from 'tap';
import { MongoConsentStore } from './consent-store-mongo';
import { consentStoreConformance } from './consent-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'consent_test');
  consentStoreConformance(t, 'mongodb', () => MongoConsentStore.connect(database()));
}
