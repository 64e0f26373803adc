/**
 * AnalyticsSink: where product events go for analysts. `record` never blocks and never throws: events
 * are queued (bounded) and delivered in batches off the hot path, at least once; each carries a unique id
 * so the store de-duplicates retried batches. When the bound is hit, new events are dropped and counted;
 * the socket core is never slowed by analytics.
 */
export type AnalyticsEventType = 'connect' | 'disconnect' | 'room_start' | 'room_end' | 'join' | 'leave' | 'chat' | 'gift';

export interface AnalyticsEvent {
  readonly id: string;
  /** Milliseconds since the epoch, from the node that saw it. */
  readonly ts: number;
  readonly node: string;
  readonly type: AnalyticsEventType;
  readonly user?: string;
  readonly room?: string;
  readonly platform?: string;
  readonly appVersion?: string;
  readonly country?: string;
  /** join→leave or connect→disconnect, milliseconds. */
  readonly durationMs?: number;
  readonly giftId?: string;
  readonly coins?: number;
  readonly count?: number;
  readonly creator?: string;
}

export interface SinkStats {
  readonly queued: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly failedAttempts: number;
}

export interface AnalyticsSink {
  record(event: AnalyticsEvent): void;
  /** Delivers what is queued now; resolves when delivered (retrying as configured) or when closed. */
  flush(): Promise<void>;
  stats(): SinkStats;
  close(): Promise<void>;
}
