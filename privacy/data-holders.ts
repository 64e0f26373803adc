/**
 * Every store that holds personal data, by name, in the order erasure visits them: the account last, so
 * a user whose erasure was interrupted is still found (and finished) by the next sweep. The same list
 * drives export, so a store cannot be exported but forgotten by erasure, or the reverse; docs/privacy.md
 * has one row per entry.
 */
import { decode, encode } from '@msgpack/msgpack';
import type { Erasure, ErasureCounts, PersonalData, PersonalExport } from '../adapters/privacy/personal-data';
import { scrub } from '../adapters/privacy/personal-data';
import type { Ledger, LedgerEntry } from '../adapters/ledger/ledger';
import type { FrameRewrite, RealtimeStore } from '../adapters/store/realtime-store';
import { roomModFrame } from '../protocol/codec';
import { ServerOp } from '../protocol/codes';

export interface PersonalDataHolder extends PersonalData {
  /** The archive's file name (without `.json`) and the name in erasure logs. */
  readonly store: string;
  /** What the file holds, for the archive's README. */
  readonly holds: string;
}

export function holder(store: string, holds: string, data: PersonalData): PersonalDataHolder {
  return { store, holds, exportUser: (u) => data.exportUser(u), eraseUser: (e) => data.eraseUser(e) };
}

/** The wallet: the balance and every movement, newest first, read through the ledger's own history. */
export function walletData(ledger: Ledger): PersonalData {
  return {
    exportUser: async (user) => {
      const account = `user:${user}`;
      const movements: LedgerEntry[] = [];
      let before: { ts: number; opId: string } | undefined;
      for (;;) {
        const page = await ledger.history(account, { limit: 500, ...(before ? { before } : {}) });
        movements.push(...page);
        if (page.length < 500) break;
        before = { ts: page.at(-1)!.ts, opId: page.at(-1)!.opId };
      }
      return { wallet: [{ account, balance: await ledger.balance(account) }], ledger_movements: movements };
    },
    eraseUser: (e) => ledger.eraseUser(e),
  };
}

/**
 * Room events after an erasure: what the user sent (chat, gifts, moderation acts) becomes a `removed`
 * tombstone at the same seq, as a deleted message does (docs/protocol.md ROOM_MOD), so a resume has no
 * gap; others' events that name them keep their meaning with the pseudonym.
 */
export function erasedFrame(e: Erasure): FrameRewrite {
  return ({ room, seq, ts, frame }) => {
    const f = decode(frame) as unknown[];
    const op = f[0];
    const sentByUser = (op === ServerOp.ROOM_CHAT || op === ServerOp.ROOM_GIFT || op === ServerOp.ROOM_MOD) && f[4] === e.user;
    if (sentByUser) return roomModFrame(room, seq, ts, 'platform', 'removed', { user: e.pseudonym });
    return encode(scrub(f, e));
  };
}

/** Chat, gifts and direct messages in the realtime store. */
export function realtimeData(store: RealtimeStore): PersonalData {
  return {
    exportUser: (user) => store.exportUser(user),
    eraseUser: (e) => store.eraseUser(e, erasedFrame(e)),
  };
}

/** Exports every holder; a holder that fails fails the whole export (a partial archive would mislead). */
export async function exportAll(holders: readonly PersonalDataHolder[], user: string): Promise<Record<string, PersonalExport>> {
  const out: Record<string, PersonalExport> = {};
  for (const h of holders) out[h.store] = await h.exportUser(user);
  return out;
}

export async function eraseAll(holders: readonly PersonalDataHolder[], e: Erasure): Promise<Record<string, ErasureCounts>> {
  const out: Record<string, ErasureCounts> = {};
  for (const h of holders) out[h.store] = await h.eraseUser(e);
  return out;
}
