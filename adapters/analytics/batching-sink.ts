/**
 * The queueing and delivery loop shared by every AnalyticsSink: a bounded queue, a batch taken by size or
 * time, one delivery in flight at a time, exponential backoff with jitter after a failure (the batch stays
 * at the head of the queue, so delivery is at least once and in order), and a drop counter when full.
 * A concrete sink only says how to deliver one batch.
 */
import type { AnalyticsEvent, AnalyticsSink, SinkStats } from './analytics-sink';

export interface BatchingOptions {
  readonly maxQueue: number;
  readonly batchSize: number;
  readonly flushIntervalMs: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Called on each outcome, for metrics and logs. */
  readonly onOutcome?: (outcome: 'delivered' | 'failed' | 'dropped', n: number, error?: unknown) => void;
}

export abstract class BatchingSink implements AnalyticsSink {
  private queue: AnalyticsEvent[] = [];
  private delivering: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private backoffMs = 0;
  private retryAt = 0;
  private closed = false;
  private delivered = 0;
  private dropped = 0;
  private failedAttempts = 0;

  constructor(private readonly opts: BatchingOptions) {
    this.timer = setInterval(() => this.pump(), opts.flushIntervalMs);
    this.timer.unref();
  }

  /** Writes one batch to the store; rejecting means "not delivered, retry later". */
  protected abstract deliver(batch: readonly AnalyticsEvent[]): Promise<void>;

  record(event: AnalyticsEvent): void {
    if (this.closed) return;
    if (this.queue.length >= this.opts.maxQueue) {
      this.dropped++;
      this.opts.onOutcome?.('dropped', 1);
      return;
    }
    this.queue.push(event);
    if (this.queue.length >= this.opts.batchSize) this.pump();
  }

  async flush(): Promise<void> {
    while (this.queue.length > 0 && !this.closed) {
      this.pump(true);
      if (this.delivering) await this.delivering;
      else await new Promise((r) => setTimeout(r, Math.max(10, this.retryAt - Date.now())));
    }
    if (this.delivering) await this.delivering;
  }

  stats(): SinkStats {
    return { queued: this.queue.length, delivered: this.delivered, dropped: this.dropped, failedAttempts: this.failedAttempts };
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (this.delivering) await this.delivering;
    this.closed = true;
  }

  private pump(force = false): void {
    if (this.delivering || this.queue.length === 0) return;
    if (Date.now() < this.retryAt && !force) return;
    if (Date.now() < this.retryAt) return;
    const batch = this.queue.slice(0, this.opts.batchSize);
    this.delivering = this.deliver(batch).then(() => {
      this.queue.splice(0, batch.length);
      this.delivered += batch.length;
      this.backoffMs = 0;
      this.retryAt = 0;
      this.opts.onOutcome?.('delivered', batch.length);
    }, (error: unknown) => {
      this.failedAttempts++;
      this.backoffMs = Math.min(this.opts.maxBackoffMs, Math.max(this.opts.minBackoffMs, this.backoffMs * 2));
      this.retryAt = Date.now() + this.backoffMs * (0.5 + Math.random() / 2);
      this.opts.onOutcome?.('failed', batch.length, error);
    }).finally(() => {
      this.delivering = null;
      if (this.queue.length >= this.opts.batchSize) this.pump();
    });
  }
}
