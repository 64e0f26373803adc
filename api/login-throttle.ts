/**
 * Failed sign-in counting, so that guessing is slow but nobody can lock someone else out.
 *
 * - Per (account, IP): the first `pairFree` failures within the window cost nothing; each one after that
 *   locks this account *from this IP* for a delay that doubles (`pairBaseLockMs`, 2×, 4× … up to
 *   `pairMaxLockMs`). The owner on another IP is not affected.
 * - Per IP, across accounts (credential stuffing): `ipLimit` failures in the window lock that IP for
 *   `ipLockMs`, for every account; registration from a locked IP is refused too.
 * - Per account, across IPs (a botnet guessing one account): after `accountLimit` failures in the window
 *   the account refuses sign-ins from IPs it never signed in from, for `accountLockMs`; IPs the owner
 *   signed in from before (known IPs, from the account's sessions) keep working.
 *
 * Every answer while locked is the same 429 whether or not the account exists. In-process: each API
 * process counts on its own (documented in docs/security.md).
 */
export interface ThrottlePolicy {
  readonly windowMs: number;
  readonly pairFree: number;
  readonly pairBaseLockMs: number;
  readonly pairMaxLockMs: number;
  readonly ipLimit: number;
  readonly ipLockMs: number;
  readonly accountLimit: number;
  readonly accountLockMs: number;
}

export const DEFAULT_THROTTLE: ThrottlePolicy = {
  windowMs: 15 * 60_000,
  pairFree: 5,
  pairBaseLockMs: 30_000,
  pairMaxLockMs: 15 * 60_000,
  ipLimit: 20,
  ipLockMs: 15 * 60_000,
  accountLimit: 100,
  accountLockMs: 15 * 60_000,
};

interface Window {
  failures: number;
  since: number;
  lockedUntil: number;
}

const MAX_ENTRIES = 100_000;

export class LoginThrottle {
  private readonly pairs = new Map<string, Window>();
  private readonly ips = new Map<string, Window>();
  private readonly accounts = new Map<string, Window>();

  constructor(private readonly policy: ThrottlePolicy = DEFAULT_THROTTLE) {}

  /**
   * Milliseconds until `account` may try again from `ip`; 0 when allowed. `knownIp`: the account has
   * signed in from this IP before (its owner), which the account-wide lock spares.
   */
  blockedFor(account: string, ip: string, now: number, knownIp: boolean): number {
    const pair = this.pairs.get(`${account}\n${ip}`)?.lockedUntil ?? 0;
    const byIp = this.ips.get(ip)?.lockedUntil ?? 0;
    const byAccount = knownIp ? 0 : (this.accounts.get(account)?.lockedUntil ?? 0);
    return Math.max(0, pair - now, byIp - now, byAccount - now);
  }

  /** Milliseconds until anything (registration too) is accepted from `ip`; 0 when allowed. */
  ipBlockedFor(ip: string, now: number): number {
    return Math.max(0, (this.ips.get(ip)?.lockedUntil ?? 0) - now);
  }

  failure(account: string, ip: string, now: number): void {
    const p = this.policy;
    const pair = this.bump(this.pairs, `${account}\n${ip}`, now);
    if (pair.failures >= p.pairFree) pair.lockedUntil = now + Math.min(p.pairMaxLockMs, p.pairBaseLockMs * 2 ** (pair.failures - p.pairFree));
    this.ipFailure(ip, now);
    const acc = this.bump(this.accounts, account, now);
    if (acc.failures >= p.accountLimit) acc.lockedUntil = now + p.accountLockMs;
  }

  /** A failure that concerns only the IP (a probe for a taken email at registration). */
  ipFailure(ip: string, now: number): void {
    const w = this.bump(this.ips, ip, now);
    if (w.failures >= this.policy.ipLimit) w.lockedUntil = now + this.policy.ipLockMs;
  }

  /** A correct password (and MFA, if on) from this IP: its pair counter starts over. */
  success(account: string, ip: string): void {
    this.pairs.delete(`${account}\n${ip}`);
  }

  private bump(map: Map<string, Window>, key: string, now: number): Window {
    let w = map.get(key);
    if (!w || (now - w.since > this.policy.windowMs && w.lockedUntil <= now)) map.set(key, (w = { failures: 0, since: now, lockedUntil: 0 }));
    w.failures++;
    if (map.size > MAX_ENTRIES) for (const [k, v] of map) if (now - v.since > this.policy.windowMs && v.lockedUntil < now) map.delete(k);
    return w;
  }
}
