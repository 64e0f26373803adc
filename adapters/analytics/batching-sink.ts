/**
 * The shipping loop shared by every AnalyticsSink: events go first into the durable outbox (one SQLite
 * transaction per recorded batch), then a batch taken by size or time is delivered, one delivery in flight
 * at a time; only a delivered batch leaves the outbox, so delivery is at least once and in order, across
 * restarts and crashes. A failure backs off exponentially with jitter. A concrete sink only says how to
 * deliver one batch.
 */
import type { AnalyticsEvent, AnalyticsSink, SinkStats } from './analytics-sink';
import type { EventOutbox } from './event-outbox';

export interface BatchingOptions {
  /** Events the outbox holds at most; beyond it new events are refused and counted. */
  readonly maxQueue: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** How often the node's heartbeat is written (what a crash-closed interval ends at). 0: never. */
  readonly heartbeatMs?: number;
  /** Called on each outcome, for metrics and logs. */
  readonly onOutcome?: (outcome: 'delivered' | 'failed' | 'dropped', n: number, error?: unknown) => void;
}

export abstract class BatchingSink implements AnalyticsSink {
  private delivering: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private retryAt = 0;
  private closed = false;
  private delivered = 0;
  private dropped = 0;
  private failedAttempts = 0;

  constructor(protected readonly outbox: EventOutbox, private readonly opts: BatchingOptions) {
    this.timer = setInterval(() => this.pump(), opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes one batch to the store; rejecting means "not delivered, retry later". */
  protected abstract deliver(batch: readonly AnalyticsEvent[]): Promise<void>;

  record(event: AnalyticsEvent): void {
    this.recordAll([event]);
  }

  recordAll(events: readonly AnalyticsEvent[]): void {
    if (this.closed || events.length === 0) return;
    let refused: number;
    try {
      refused = this.outbox.append(events);
    } catch {
      refused = events.length; // the disk refused the write: counted, never thrown into the socket core
    }
    if (refused > 0) {
      this.dropped += refused;
      this.opts.onOutcome?.('dropped', refused);
    }
    if (this.outbox.size >= this.opts.batchSize) this.pump();
  }

  discard(events: readonly AnalyticsEvent[]): void {
    if (this.closed) return;
    try {
      this.outbox.forgetIntervals(events);
    } catch {
      // the disk refused: the interval is closed as crashed at the next start, like any other lost close
    }
  }

  /**
   * Closes what a dead process left open (connections, room visits) with crash-ended events, then starts
   * this process's heartbeat (never before: the dead process's last heartbeat is what its visits end at).
   * Call once at start, before the node records anything. Returns the closing events.
   */
  recoverInterrupted(): AnalyticsEvent[] {
    const closing = this.outbox.recoverInterrupted();
    if (closing.length > 0) this.pump();
    if (this.opts.heartbeatMs && !this.heartbeatTimer && !this.closed) {
      this.outbox.heartbeat(Date.now());
      this.heartbeatTimer = setInterval(() => this.outbox.heartbeat(Date.now()), this.opts.heartbeatMs);
      this.heartbeatTimer.unref();
    }
    return closing;
  }

  async flush(): Promise<void> {
    while (this.outbox.size > 0 && !this.closed) {
      this.pump(true);
      if (this.delivering) await this.delivering;
      else await new Promise((r) => setTimeout(r, Math.max(10, this.retryAt - Date.now())));
    }
    if (this.delivering) await this.delivering;
  }

  stats(): SinkStats {
    return { queued: this.outbox.size, delivered: this.delivered, dropped: this.dropped, failedAttempts: this.failedAttempts };
  }

  /** Stops shipping; what was not delivered stays in the outbox for the next start. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.timer) clearInterval(this.timer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.timer = this.heartbeatTimer = null;
    if (this.delivering) await this.delivering;
    this.closed = true;
    if (this.opts.heartbeatMs) this.outbox.heartbeat(Date.now());
    this.outbox.close();
  }

  private pump(force = false): void {
    if (this.delivering || this.closed || this.outbox.size === 0) return;
    if (Date.now() < this.retryAt && !force) return;
    if (Date.now() < this.retryAt) return;
    const entries = this.outbox.peek(this.opts.batchSize);
    if (entries.length === 0) return;
    const upTo = entries[entries.length - 1]!.seq;
    this.delivering = this.deliver(entries.map((e) => e.event)).then(() => {
      if (!this.closed) this.outbox.remove(upTo);
      this.delivered += entries.length;
      this.backoffMs = 0;
      this.retryAt = 0;
      this.opts.onOutcome?.('delivered', entries.length);
    }, (error: unknown) => {
      this.failedAttempts++;
      this.backoffMs = Math.min(this.opts.maxBackoffMs, Math.max(this.opts.minBackoffMs, this.backoffMs * 2));
      this.retryAt = Date.now() + this.backoffMs * (0.5 + Math.random() / 2);
      this.opts.onOutcome?.('failed', entries.length, error);
    }).finally(() => {
      this.delivering = null;
      if (this.outbox.size >= this.opts.batchSize) this.pump();
    });
  }
}
