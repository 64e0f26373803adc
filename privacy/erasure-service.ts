/**
 * The right to erasure (docs/privacy.md § Erasure). Closing an account takes effect at once: its sessions
 * are revoked (sockets closed, tokens refused), its live room ends, it drops out of follower lists and
 * discovery, and its analytics stop. After the grace period a sweep erases it from every store, the account
 * last, with a pseudonym fixed at closing (so an interrupted erasure resumes with the same one). Until
 * then the owner can restore it.
 */
import { randomBytes } from 'node:crypto';
import type { AccountStore, User } from '../adapters/accounts/account-store';
import type { ErasureCounts } from '../adapters/privacy/personal-data';
import { ApiError } from '../api/errors';
import type { PersonalDataHolder } from './data-holders';

export interface ErasureDeps {
  readonly accounts: Pick<AccountStore, 'userById' | 'deactivate' | 'reactivate' | 'dueErasures' | 'revokeSessions'>;
  /** Every other store, in erasure order; the account store is visited after them. */
  readonly holders: readonly PersonalDataHolder[];
  readonly account: PersonalDataHolder;
  /** Closes the sockets of revoked sessions and refuses their tokens. */
  readonly revoke: (sids: readonly string[]) => void;
  /** Ends the user's live room, if any (hidden from discovery at once). */
  readonly endLiveRoom: (user: string) => Promise<void>;
  /** Stops (true) or restarts (false) recording the user's analytics events. */
  readonly analyticsPaused: (user: string, paused: boolean) => void;
  /** Export jobs and archives. */
  readonly exports: { eraseUser(user: string): Promise<number> };
  readonly graceMs: number;
  readonly now: () => number;
  /** Never given the erased id: logs and metrics must not keep it. */
  readonly onErased: (pseudonym: string, counts: Record<string, ErasureCounts>) => void;
  readonly onError: (err: unknown) => void;
  /** Counts outcomes: closed, restored (erased goes through onErased). */
  readonly count?: (outcome: 'closed' | 'restored') => void;
}

/** Same shape as a user id (`u_` and 20 hex digits), so every column that takes an id takes it. */
export function newPseudonym(): string {
  return `x_${randomBytes(10).toString('hex')}`;
}

export class ErasureService {
  private sweeping: Promise<number> | null = null;

  constructor(private readonly d: ErasureDeps) {}

  /** Closes the account now; erasure follows at `eraseAfter`. */
  async close(user: string): Promise<{ eraseAfter: number }> {
    const now = this.d.now();
    const eraseAfter = now + this.d.graceMs;
    if (!(await this.d.accounts.deactivate(user, now, eraseAfter, newPseudonym()))) {
      const u = await this.d.accounts.userById(user);
      if (!u) throw new ApiError('HB_API_UNAUTHENTICATED');
      return { eraseAfter: u.eraseAfter ?? eraseAfter };
    }
    this.d.count?.('closed');
    this.d.analyticsPaused(user, true);
    this.d.revoke(await this.d.accounts.revokeSessions({ userId: user }, now));
    await this.d.endLiveRoom(user);
    return { eraseAfter };
  }

  /** Reopens an account within its grace period (the caller has checked the owner's credentials). */
  async restore(user: User): Promise<void> {
    if (!user.deactivatedAt || !(await this.d.accounts.reactivate(user.id))) throw new ApiError('HB_API_ACCOUNT_ACTIVE');
    this.d.count?.('restored');
    this.d.analyticsPaused(user.id, false);
  }

  /** Erases every account whose grace period is over; one sweep at a time. Returns how many were erased. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let erased = 0;
    for (const user of await this.d.accounts.dueErasures(this.d.now(), 50)) {
      try {
        await this.erase(user);
        erased++;
      } catch (err) {
        this.d.onError(err);
      }
    }
    return erased;
  }

  private async erase(user: User): Promise<void> {
    const e = { user: user.id, pseudonym: user.pseudonym ?? newPseudonym(), aliases: [user.email, user.displayName].filter((a) => a.length > 0) };
    const counts: Record<string, ErasureCounts> = {};
    for (const h of this.d.holders) counts[h.store] = await h.eraseUser(e);
    const archives = await this.d.exports.eraseUser(user.id);
    if (archives > 0) counts.exports = { export_jobs: archives };
    counts[this.d.account.store] = await this.d.account.eraseUser(e);
    this.d.onErased(e.pseudonym, counts);
  }
}
