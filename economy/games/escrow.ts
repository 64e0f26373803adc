/**
 * A round's (or duel's) escrow must end empty: after it settles or is refunded, any stake still in it that
 * the round did not count (one that committed on an old owner after the round moved on) goes back to its
 * player. Refund op ids derive from the stake's op id, so repeating the sweep refunds nothing twice.
 */
import { createHash } from 'node:crypto';
import type { LedgerEntry, LedgerOp } from '../../adapters/ledger/ledger';

export function strayStakeRefunds(escrowHistory: readonly LedgerEntry[], counted: ReadonlySet<string>, reason: string): LedgerOp[] {
  return escrowHistory
    .filter((e) => e.kind === 'stake' && !counted.has(e.opId))
    .map((e) => ({ kind: 'refund', opId: `refund:${createHash('sha256').update(e.opId).digest('base64url').slice(0, 32)}`, refundOf: e.opId, reason }));
}
