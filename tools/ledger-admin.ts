/**
 * `npm run ledger -- <command>`: operator access to the configured ledger (SQLite under the data folder,
 * or MONGODB_URL). Until payments exist, `mint` is how coins enter.
 *
 *   mint <user> <coins> [opId]      credit purchased coins (idempotent by opId)
 *   adjust <user> <delta> <reason> [opId]
 *   refund <opId-of-gift-or-mint> <reason> [opId]
 *   balance <user>
 *   history <user> [limit]
 *   totals                          conservation audit: held = issued, no negative balance, nothing pending
 *   recover                         complete or reverse operations a crash left half-done
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../config/config';
import { openLedger } from '../adapters/ledger/open-ledger';
import { userAccount, type LedgerOp } from '../adapters/ledger/ledger';

async function main(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  const config = loadConfig();
  const ledger = await openLedger({ mongodbUrl: config.engines.mongodbUrl, dataDir: config.dataDir, leaseMs: config.economy.ledgerLeaseMs });
  const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  const apply = async (op: LedgerOp) => {
    const r = await ledger.apply(op);
    print(r);
    return r.ok ? 0 : 1;
  };
  try {
    switch (command) {
      case 'mint':
        return await apply({ kind: 'mint', opId: args[2] ?? `mint-${randomUUID()}`, user: args[0] ?? '', amount: Number(args[1]), source: 'admin' });
      case 'adjust':
        return await apply({ kind: 'adjust', opId: args[3] ?? `adjust-${randomUUID()}`, user: args[0] ?? '', delta: Number(args[1]), reason: args[2] ?? '' });
      case 'refund':
        return await apply({ kind: 'refund', opId: args[2] ?? `refund-${randomUUID()}`, refundOf: args[0] ?? '', reason: args[1] ?? '' });
      case 'balance':
        print({ user: args[0], balance: await ledger.balance(userAccount(args[0] ?? '')) });
        return 0;
      case 'history':
        print(await ledger.history(userAccount(args[0] ?? ''), { limit: Number(args[1] ?? 20) }));
        return 0;
      case 'totals': {
        const t = await ledger.totals();
        print({ ...t, conserved: t.held === t.issued && t.negativeAccounts === 0 });
        return t.held === t.issued && t.negativeAccounts === 0 ? 0 : 2;
      }
      case 'recover':
        print(await ledger.recover());
        return 0;
      default:
        process.stderr.write('usage: npm run ledger -- mint|adjust|refund|balance|history|totals|recover ... (see tools/ledger-admin.ts)\n');
        return 64;
    }
  } finally {
    await ledger.close();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
