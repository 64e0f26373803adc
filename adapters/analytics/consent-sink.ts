/**
 * The consent check at the sink (docs/privacy.md § Consent): events of users who declined analytics never
 * reach the outbox, whatever recorded them. An event whose `user` declined is dropped; a `creator` or
 * `target` who declined is replaced by `(declined)`, so a consenting sender's gift still counts while the
 * person it names is not kept. The decision is the caller's (`declined`), read from memory on every event.
 */
import type { AnalyticsEvent, AnalyticsSink, SinkStats } from './analytics-sink';

export const DECLINED = '(declined)';

export class ConsentSink implements AnalyticsSink {
  private refused = 0;

  constructor(private readonly inner: AnalyticsSink, private readonly declined: (user: string) => boolean) {}

  record(event: AnalyticsEvent): void {
    const e = this.admit(event);
    if (e) this.inner.record(e);
    else this.inner.discard?.([event]);
  }

  recordAll(events: readonly AnalyticsEvent[]): void {
    const kept: AnalyticsEvent[] = [];
    let refused: AnalyticsEvent[] | null = null;
    for (const event of events) {
      const e = this.admit(event);
      if (e) kept.push(e);
      else (refused ??= []).push(event);
    }
    // A user who declines mid-session must not leave a connection or visit open: a restart would record its end.
    if (refused) this.inner.discard?.(refused);
    if (kept.length > 0) this.inner.recordAll(kept);
  }

  discard(events: readonly AnalyticsEvent[]): void {
    this.inner.discard?.(events);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  /** The inner sink's numbers; `dropped` adds the events refused for consent. */
  stats(): SinkStats {
    const s = this.inner.stats();
    return { ...s, dropped: s.dropped + this.refused };
  }

  /** Events refused because their user declined analytics. */
  get declinedEvents(): number {
    return this.refused;
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private admit(e: AnalyticsEvent): AnalyticsEvent | null {
    if (e.user && this.declined(e.user)) {
      this.refused++;
      return null;
    }
    const creator = e.creator && this.declined(e.creator);
    const target = e.target && this.declined(e.target);
    if (!creator && !target) return e;
    return { ...e, ...(creator ? { creator: DECLINED } : {}), ...(target ? { target: DECLINED } : {}) };
  }
}
