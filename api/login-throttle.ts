/**
 * Failed sign-in counting per account and per IP. After too many failures the same 429 answers for every
 * attempt on that account or from that IP, whether or not the account exists, so the lockout reveals
 * nothing. In-process; a multi-node deployment moves the counters to Redis with the presence work.
 */
interface Window {
  failures: number;
  since: number;
  lockedUntil: number;
}

export class LoginThrottle {
  private readonly accounts = new Map<string, Window>();
  private readonly ips = new Map<string, Window>();

  constructor(
    private readonly perAccount = 5,
    private readonly perIp = 20,
    private readonly windowMs = 15 * 60_000,
    private readonly lockMs = 15 * 60_000,
  ) {}

  /** Milliseconds until this account or IP may try again; 0 when allowed. */
  blockedFor(account: string, ip: string, now: number): number {
    return Math.max(0, (this.accounts.get(account)?.lockedUntil ?? 0) - now, (this.ips.get(ip)?.lockedUntil ?? 0) - now);
  }

  failure(account: string, ip: string, now: number): void {
    this.bump(this.accounts, account, this.perAccount, now);
    this.bump(this.ips, ip, this.perIp, now);
  }

  success(account: string): void {
    this.accounts.delete(account);
  }

  private bump(map: Map<string, Window>, key: string, limit: number, now: number): void {
    let w = map.get(key);
    if (!w || now - w.since > this.windowMs) map.set(key, (w = { failures: 0, since: now, lockedUntil: 0 }));
    if (++w.failures >= limit) w.lockedUntil = now + this.lockMs;
    if (map.size > 100_000) for (const [k, v] of map) if (now - v.since > this.windowMs && v.lockedUntil < now) map.delete(k);
  }
}
