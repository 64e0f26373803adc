/**
 * Sessions revoked while their access tokens may still be unexpired. The socket hello and the API consult
 * it, so a revoked session's tokens stop working at once rather than at expiry. Entries drop out once no
 * token of theirs can still be valid.
 */
export class Revocations {
  private readonly until = new Map<string, number>();

  constructor(private readonly tokenLifetimeMs: number) {}

  add(sid: string, now = Date.now()): void {
    this.until.set(sid, now + this.tokenLifetimeMs);
    if (this.until.size % 1024 === 0) this.prune(now);
  }

  has(sid: string, now = Date.now()): boolean {
    const t = this.until.get(sid);
    return t !== undefined && t > now;
  }

  private prune(now: number): void {
    for (const [sid, t] of this.until) if (t <= now) this.until.delete(sid);
  }
}
