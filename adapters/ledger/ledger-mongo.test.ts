import t from 'tap';
import { MongoLedger } from './ledger-mongo';
import { ledgerConformance } from './ledger.conformance';
import { engineUrl, freshMongoDatabases } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  // A fresh database per test, so totals and leftovers never mix.
  const database = freshMongoDatabases(t, base, 'ledger_test');
  let current = '';
  const fresh = () => (current = database());
  ledgerConformance(t, 'mongodb', {
    open: () => MongoLedger.connect({ url: fresh(), leaseMs: 60_000 }),
    openWithCrash: (step, opId, leaseMs) => MongoLedger.connect({
      url: current,
      leaseMs,
      afterStep: (s, id) => {
        if (s === step && id === opId) throw new Error(`simulated crash after ${s}`);
      },
    }),
    openForRecovery: () => MongoLedger.connect({ url: current, leaseMs: 0 }),
  });
}
