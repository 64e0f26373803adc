import t from 'tap';
import { MongoClient } from 'mongodb';
import { MongoLedger } from './ledger-mongo';
import { ledgerConformance } from './ledger.conformance';
import { engineUrl } from '../../test/helpers/services';

const base = engineUrl(t, 'mongodb');
if (base) {
  const url = new URL(base);
  url.pathname = `/ledger_test_${process.pid}_${Date.now()}`;
  const dbUrl = url.toString();
  const created: string[] = [];
  t.teardown(async () => {
    const c = new MongoClient(base);
    await c.connect();
    for (const name of created) await c.db(name).dropDatabase();
    await c.close();
  });
  // A fresh database per test, so totals and leftovers never mix.
  let current = dbUrl;
  let n = 0;
  const fresh = () => {
    const u = new URL(dbUrl);
    u.pathname = `${u.pathname}_${n++}`;
    created.push(u.pathname.slice(1));
    current = u.toString();
    return current;
  };
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
