/**
 * The ledger as a worker uses it, with its calls in flight counted: how many money operations are
 * waiting for the store and how long the oldest has waited, for the `halobuzz_ledger_pending_*` metrics
 * and the alert on operations stuck (a store that stopped answering, a lease never released).
 */
import type { Ledger } from './ledger';

export class PendingLedgerCalls {
  private readonly started = new Map<number, number>();
  private next = 0;

  /** The same ledger; every call that returns a promise is counted until it settles. */
  wrap(ledger: Ledger, now: () => number = Date.now): Ledger {
    return new Proxy(ledger, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const out = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (out instanceof Promise) {
            const id = this.next++;
            this.started.set(id, now());
            const done = () => void this.started.delete(id);
            out.then(done, done);
          }
          return out;
        };
      },
    });
  }

  /** Calls in flight, and the age of the oldest in ms (0 when none). */
  snapshot(now = Date.now()): { pending: number; oldestMs: number } {
    let oldest = now;
    for (const at of this.started.values()) if (at < oldest) oldest = at;
    return { pending: this.started.size, oldestMs: now - oldest };
  }
}
