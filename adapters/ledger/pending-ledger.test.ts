import t from 'tap';
import { PendingLedgerCalls } from './pending-ledger';
import type { Ledger } from './ledger';

t.test('counts the ledger calls in flight and the age of the oldest; a failed call is no longer pending', async (t) => {
  let clock = 1000;
  const gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  const fake = {
    close: async () => undefined,
    balance: () => new Promise<void>((resolve, reject) => void gates.push({ resolve, reject })),
  } as unknown as Ledger;
  const calls = new PendingLedgerCalls();
  const ledger = calls.wrap(fake, () => clock);
  t.same(calls.snapshot(clock), { pending: 0, oldestMs: 0 });
  const first = (ledger as unknown as { balance(): Promise<void> }).balance();
  clock = 1500;
  const second = (ledger as unknown as { balance(): Promise<void> }).balance();
  t.same(calls.snapshot(2000), { pending: 2, oldestMs: 1000 }, 'two in flight, the oldest for 1 s');
  gates[0]!.resolve();
  await first;
  t.same(calls.snapshot(2000), { pending: 1, oldestMs: 500 });
  gates[1]!.reject(new Error('store down'));
  await t.rejects(second, /store down/, 'the caller still sees the failure');
  t.same(calls.snapshot(2000), { pending: 0, oldestMs: 0 });
});
