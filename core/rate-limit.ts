/**
 * Token buckets for per-connection and per-user limits. Refilled lazily on use, so an idle bucket costs
 * nothing; `now` is passed in so tests control time.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(private readonly perSecond: number, private readonly burst: number, now: number) {
    this.tokens = burst;
    this.last = now;
  }

  /** Takes one token; false when the bucket is empty. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until one token is available. */
  retryAfterMs(now: number): number {
    this.refill(now);
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  private refill(now: number): void {
    const elapsed = now - this.last;
    if (elapsed <= 0) return;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed / 1000) * this.perSecond);
  }
}

/** Counts events in a sliding window of fixed length; used to spot abusive connections. */
export class WindowCounter {
  private count = 0;
  private windowStart: number;

  constructor(private readonly windowMs: number, now: number) {
    this.windowStart = now;
  }

  /** Records one event and returns how many fell in the current window. */
  hit(now: number): number {
    if (now - this.windowStart >= this.windowMs) {
      this.windowStart = now;
      this.count = 0;
    }
    return ++this.count;
  }
}
