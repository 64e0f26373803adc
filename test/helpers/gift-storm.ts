/**
 * A gift storm for the cluster's failure tests: every fan sends `perFan` gifts into a room one after
 * another, retrying each with the same op id on errors that are transient while something dies (a node, a
 * broker), and the ledger totals once nothing is half-applied.
 */
import { ErrorCode } from '../../protocol/codes';
import { HaloClient, HaloError } from '../../sdk/client';
import type { LedgerTotals } from '../../adapters/ledger/ledger';

/** Transient while a node or broker dies or drains and rooms or partitions move: retry the same op id. */
export const TRANSIENT = new Set<number>([ErrorCode.LEDGER_UNAVAILABLE, ErrorCode.OP_IN_PROGRESS, ErrorCode.NOT_IN_ROOM, ErrorCode.OVERLOADED, ErrorCode.SHUTTING_DOWN]);

export interface GiftStorm {
  /** Op id → the seq its sender was told. */
  readonly acked: Map<string, number>;
  sent(): number;
  retries(): number;
  /** Resolves when every gift was acknowledged; rejects on a non-transient error. */
  readonly done: Promise<void>;
}

/** `until`: stop early (after the gift in flight) once it says so; `perFan` is then an upper bound. */
export function giftStorm(fans: readonly HaloClient[], room: string, perFan: number, pauseMs = 0, until: () => boolean = () => false): GiftStorm {
  const acked = new Map<string, number>();
  let sent = 0;
  let retries = 0;
  const done = Promise.all(fans.map(async (fan) => {
    for (let i = 0; i < perFan && !until(); i++) {
      const opId = HaloClient.newOpId();
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await fan.gift(room, 'rose', 1 + (i % 3), opId);
          acked.set(opId, r.seq);
          sent++;
          break;
        } catch (err) {
          const transient = !(err instanceof HaloError) || TRANSIENT.has(err.code);
          if (!transient || attempt > 120) throw err;
          retries++;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      if (pauseMs > 0) await new Promise((r) => setTimeout(r, pauseMs));
    }
  })).then(() => undefined);
  return { acked, sent: () => sent, retries: () => retries, done };
}

/** The ledger totals from a node's debug route, once no operation is half-applied (recovery runs on timers). */
export async function settledLedgerTotals(http: string): Promise<LedgerTotals> {
  let totals: LedgerTotals | null = null;
  for (let i = 0; i < 60 && totals?.pending !== 0; i++) {
    totals = (await (await fetch(`${http}/debug/ledger/totals`)).json()) as LedgerTotals;
    if (totals.pending !== 0) await new Promise((r) => setTimeout(r, 500));
  }
  return totals!;
}
