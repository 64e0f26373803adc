import t from 'tap';
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { MongoLedger } from './ledger-mongo';
import { ledgerConformance } from './ledger.conformance';
import { userAccount, type LedgerOp } from './ledger';
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

  t.test('two processes batching gifts from the same senders keep every chain whole and coins conserved', async (t) => {
    // Big batches (more than 100 links, where FerretDB's ordered inserts stop honouring the order) that
    // collide on the senders' chains: the batches meet stale heads and fall back, and no link may land
    // on a gap.
    const url = fresh();
    const ledgers = [await MongoLedger.connect({ url, leaseMs: 60_000 }), await MongoLedger.connect({ url, leaseMs: 60_000 })];
    t.teardown(() => Promise.all(ledgers.map((l) => l.close())));
    const fans = 10;
    for (let i = 0; i < fans; i++) t.ok((await ledgers[0]!.apply({ kind: 'mint', opId: `mint-${randomUUID()}`, user: `fan${i}`, amount: 300, source: 'test' })).ok);
    const outcomes = new Map<string, number>();
    await Promise.all(Array.from({ length: fans }, async (_, fan) => {
      const sends: Promise<void>[] = [];
      for (let k = 0; k < 30; k++) {
        const room = (fan + k) % 4;
        const op: LedgerOp = { kind: 'gift', opId: randomUUID(), sender: `fan${fan}`, creator: `host${room}`, room: `r${room}`, stream: 's', giftId: 'g', count: 1 + (k % 4), unitPrice: [1, 5, 10][k % 3]!, platformShareBps: 3000 };
        const send = () => ledgers[room % 2]!.apply(op).then((r) => {
          const key = r.ok ? 'ok' : r.code;
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        });
        sends.push(send());
        if (k % 5 === 0) sends.push(send());
      }
      await Promise.all(sends);
    }));
    t.same([...outcomes.keys()].sort(), ['INSUFFICIENT_FUNDS', 'ok'], `only applied or refused: ${JSON.stringify([...outcomes])}`);
    const totals = await ledgers[0]!.totals();
    t.equal(totals.held, totals.issued, 'conserved');
    t.equal(totals.issued, fans * 300);
    t.equal(totals.pending, 0);
    t.equal(totals.negativeAccounts, 0);
    const client = new MongoClient(url);
    await client.connect();
    t.teardown(() => client.close());
    const links = await client.db().collection<{ account: string; seq: number; delta: number; balance: number }>('ledger_chain').find({}).toArray();
    const running = new Map<string, { seq: number; balance: number }>();
    let broken = 0;
    for (const l of links.sort((a, b) => a.account.localeCompare(b.account) || a.seq - b.seq)) {
      const before = running.get(l.account) ?? { seq: 0, balance: 0 };
      if (l.seq !== before.seq + 1 || l.balance !== before.balance + l.delta) broken++;
      running.set(l.account, { seq: l.seq, balance: l.balance });
    }
    t.equal(broken, 0, `every one of ${links.length} links follows its predecessor without a gap and carries the running balance`);
    for (let i = 0; i < fans; i++) t.ok((await ledgers[1]!.balance(userAccount(`fan${i}`))) >= 0);
  });

  t.test('a database an older version wrote to has its pending entries recovered once, then is marked', async (t) => {
    const url = fresh();
    const first = await MongoLedger.connect({ url, leaseMs: 60_000 });
    t.ok((await first.apply({ kind: 'mint', opId: `mint-${randomUUID()}`, user: 'alice', amount: 100, source: 'test' })).ok);
    await first.close();
    const client = new MongoClient(url);
    await client.connect();
    t.teardown(() => client.close());
    const db = client.db();
    // What an older version left after a crash: a pending entry with no intent, and no mark.
    await db.collection('ledger_meta').deleteMany({});
    const opId = `gift-${randomUUID()}`;
    await db.collection<{ _id: string } & Record<string, unknown>>('ledger_entries').insertOne({
      _id: opId, kind: 'gift', fp: 'legacy', state: 'pending', leaseUntil: 0, owner: 'old-node', ts: Date.now(),
      postings: [{ account: userAccount('alice'), delta: -10 }, { account: userAccount('bob'), delta: 10 }],
      meta: {}, accounts: [userAccount('alice'), userAccount('bob')],
    });
    const upgraded = await MongoLedger.connect({ url, leaseMs: 60_000 });
    t.teardown(() => upgraded.close());
    t.same(await upgraded.recover(), { completed: 1, reversed: 0 }, 'the legacy pending entry is completed');
    t.equal(await upgraded.balance(userAccount('bob')), 10);
    t.ok(await db.collection<{ _id: string }>('ledger_meta').findOne({ _id: 'pending-entries-have-intents' }), 'and the database is marked, so later recoveries read only intents');
    const totals = await upgraded.totals();
    t.equal(totals.held, totals.issued);
    t.equal(totals.pending, 0);
  });

  t.test('operations of an owner found dead are finished at once, not after their lease; a live owner\'s are left alone', async (t) => {
    const url = fresh();
    const setup = await MongoLedger.connect({ url, leaseMs: 60_000 });
    for (const u of ['alice', 'carol']) t.ok((await setup.apply({ kind: 'mint', opId: `mint-${randomUUID()}`, user: u, amount: 100, source: 'test' })).ok);
    await setup.close();
    const gift = (sender: string): LedgerOp => ({ kind: 'gift', opId: randomUUID(), sender, creator: 'bob', room: 'r', stream: 's', giftId: 'g', count: 1, unitPrice: 10, platformShareBps: 3000 });
    // Two nodes' workers crash mid-operation, each with a lease of a minute: node7 is then found dead, node9 only slow.
    const crashing = (tag: string, op: LedgerOp) => MongoLedger.connect({
      url, leaseMs: 60_000, ownerTag: tag, afterStep: (s, id) => {
        if (s === 'posting:0' && id === op.opId) throw new Error('simulated crash');
      },
    });
    const [dead, slow] = [gift('alice'), gift('carol')];
    const deadNode = await crashing('node7', dead);
    const slowNode = await crashing('node9', slow);
    t.teardown(() => Promise.all([deadNode.close(), slowNode.close()]));
    await t.rejects(deadNode.apply(dead));
    await t.rejects(slowNode.apply(slow));

    const survivor = await MongoLedger.connect({ url, leaseMs: 60_000, ownerTag: 'node8' });
    t.teardown(() => survivor.close());
    const before = await survivor.apply(dead);
    t.same(before.ok ? 'ok' : before.code, 'OP_IN_PROGRESS', 'while its node is thought alive, a retry waits for the lease');
    survivor.ownerGone('node7');
    const retried = await survivor.apply(dead);
    t.ok(retried.ok, 'once its node is known dead, the retry finishes the operation at once');
    t.same(await survivor.takeOver('node7'), { completed: 0, reversed: 0 }, 'leaving nothing for the takeover');
    const stillSlow = await survivor.apply(slow);
    t.same(stillSlow.ok ? 'ok' : stillSlow.code, 'OP_IN_PROGRESS', 'an operation of a node not found dead keeps its lease');

    // The sweep: another survivor that never saw the retry finishes what the dead node left.
    const other = await MongoLedger.connect({ url, leaseMs: 60_000, ownerTag: 'node10' });
    t.teardown(() => other.close());
    t.same(await other.takeOver('node9'), { completed: 1, reversed: 0 }, 'takeOver finishes the dead node\'s operation now');
    t.same(await other.recover(), { completed: 0, reversed: 0 }, 'and recovery finds nothing left');
    const again = await survivor.apply(slow);
    t.ok(again.ok && again.replayed, 'a retry after the takeover gets the result');
    t.equal(await other.balance(userAccount('alice')), 90, 'each sender paid once');
    t.equal(await other.balance(userAccount('carol')), 90);
    t.equal(await other.balance(userAccount('bob')), 14, 'the creator was credited once per gift');
    other.ownerGone('node10');
    t.same(await other.takeOver('node10'), { completed: 0, reversed: 0 }, 'a ledger never takes over its own operations');
    const totals = await other.totals();
    t.equal(totals.held, totals.issued, 'conserved');
    t.equal(totals.pending, 0, 'nothing pending');
  });
}
