/**
 * Users staff shadow-muted (docs/moderation.md § Platform actions): their chat still gets a normal reply but
 * reaches only their own connections. Every socket node holds the whole (small) list in memory so the
 * session can mark a chat without a lookup; the API sets it through the realtime bridge and loads it at
 * start from the moderation store.
 */
export class ShadowMutes {
  private readonly until = new Map<string, number>();

  /** `until` in ms since the epoch; null lifts the mute. */
  set(user: string, until: number | null): void {
    if (until === null) this.until.delete(user);
    else this.until.set(user, until);
  }

  has(user: string, now = Date.now()): boolean {
    const t = this.until.get(user);
    if (t === undefined) return false;
    if (t > now) return true;
    this.until.delete(user);
    return false;
  }
}
