/**
 * AnalyticsSink: where product events go for analysts. `record` never waits on the network and never
 * throws: events are appended to a durable outbox (bounded) and shipped in batches off the hot path, at
 * least once; each carries a unique id so the store de-duplicates re-shipped batches. When the bound is
 * hit, new events are refused and counted; the socket core is never slowed by an analytics outage.
 */
export type AnalyticsEventType = 'connect' | 'disconnect' | 'room_start' | 'room_end' | 'join' | 'leave' | 'chat' | 'gift' | 'purchase' | 'refund' | 'dispute'
  | 'game_round' | 'game_bet' | 'game_payout' | 'game_flag'
  | 'push_sent' | 'push_failed' | 'push_opened'
  | 'mod_action' | 'filter_hit' | 'report' | 'report_resolved';

/** Who ended a connection or a room visit: the client, the server (shutdown, limits), or a crash found at restart. */
export type EndedBy = 'client' | 'server' | 'crash';

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
  /** gift: the creator's part of `coins` after the platform share. */
  readonly creatorCoins?: number;
  /** The connection's analytics id: on connect, disconnect, join and leave. */
  readonly session?: string;
  /** join/leave: 'host' or 'viewer' (viewer metrics count viewers only). */
  readonly role?: 'host' | 'viewer';
  /** leave: the id of the join it closes (a room visit). */
  readonly visit?: string;
  /** room_start, room_end, join, leave, chat, gift: the live stream then running in the room, if any. */
  readonly stream?: string;
  /** disconnect and leave: who ended it. */
  readonly endedBy?: EndedBy;
  /** purchase, refund, dispute: the money, in the currency's minor units (positive; the type says which way). */
  readonly amountMinor?: number;
  readonly currency?: string;
  /** The same amount in the catalog's base currency (USD minor units). */
  readonly baseAmountMinor?: number;
  /** purchase, refund, dispute: stripe, appstore or googleplay. */
  readonly channel?: string;
  /** game_*: the game (wheel, duel, duel-bot) and its round (or duel) id. */
  readonly game?: string;
  readonly round?: string;
  /** game_round: coins paid out to players (`coins` is what they staked). */
  readonly paid?: number;
  /** game_flag: the anomaly (win_rate, chip_dumping, disputed_stake). */
  readonly flag?: string;
  /** push_*: the notification's kind (went_live, dm…); `platform` is the push provider (fcm, apns, expo). */
  readonly notification?: string;
  /** mod_action, filter_hit, report_resolved: what was done (mute, kick…; block, mask, flag; the resolution). */
  readonly action?: string;
  /** filter_hit: the filter rule (profanity, links, repeat…); report, report_resolved: the report's reason. */
  readonly rule?: string;
  /** mod_action, report: whom it was about. */
  readonly target?: string;
}

export interface SinkStats {
  readonly queued: number;
  readonly delivered: number;
  readonly dropped: number;
  readonly failedAttempts: number;
}

export interface AnalyticsSink {
  record(event: AnalyticsEvent): void;
  /** Records several events in one durable write (one actor turn's events, before its replies go out). */
  recordAll(events: readonly AnalyticsEvent[]): void;
  /**
   * Events that must not be recorded (their user declined analytics, or the account is closed) but may
   * end an interval the sink holds open: it is closed without a trace, or a restart would record its end.
   */
  discard?(events: readonly AnalyticsEvent[]): void;
  /** Delivers what is queued now; resolves when delivered (retrying as configured) or when closed. */
  flush(): Promise<void>;
  stats(): SinkStats;
  close(): Promise<void>;
}
