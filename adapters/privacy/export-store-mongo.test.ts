import t from 'tap';
import { MongoExportStore } from './export-store-mongo';
import { exportStoreConformance } from './export-store.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const database = freshMongoDatabases(t, base, 'export_store_test');
  exportStoreConformance(t, 'mongodb', async () => {
    const url = database();
    return () => MongoExportStore.connect(url);
  }, { shared: true });
}
