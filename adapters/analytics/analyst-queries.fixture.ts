/**
 * A small, fully known history of two streams, and what every named query must answer for it. The same
 * fixture runs on the local ClickHouse 18.16 (analyst-queries.test.ts) and on a current ClickHouse
 * embedded by chdb (test/clickhouse-compat.test.ts), so both servers are held to the same numbers.
 *
 * Day D = 2026-11-20 (UTC), T = D 10:00:00. Room ra (host hA) is live T → T+600 s; room rb (host hB)
 * T+3600 → T+3900. Viewers v1 (NP, android 1.0; two connections), v2 (US, ios 2.0), v3 (NP, android 1.0),
 * v4 (said nothing in its hello). Platform share 30%. Two events are delivered twice (at least once).
 */
import type { AnalyticsEvent } from './analytics-sink';
import type { QueryParams } from './analyst-queries';

const D = Date.UTC(2026, 10, 20) / 1000;
const T = D + 10 * 3600;
const DAY = 86_400;
export const FIXTURE_DAY = D;

const ms = (s: number) => s * 1000;
const np = { platform: 'android', appVersion: '1.0', country: 'NP' };
const us = { platform: 'ios', appVersion: '2.0', country: 'US' };

let n = 0;
function visit(user: string, session: string, room: string, from: number, to: number, client: object = {}, role: 'host' | 'viewer' = 'viewer'): AnalyticsEvent[] {
  const id = `visit-${++n}`;
  return [
    { id, ts: ms(from), node: 'n1', type: 'join', user, room, role, session, ...client },
    { id: `leave:${id}`, ts: ms(to), node: 'n1', type: 'leave', user, room, role, session, visit: id, durationMs: ms(to - from), endedBy: 'client', ...client },
  ];
}
const chat = (user: string, room: string, at: number, stream: string): AnalyticsEvent => ({ id: `chat-${++n}`, ts: ms(at), node: 'n1', type: 'chat', user, room, stream });
const gift = (user: string, creator: string, room: string, at: number, giftId: string, count: number, unit: number, stream: string): AnalyticsEvent => {
  const coins = count * unit;
  return { id: `gift:op-${++n}`, ts: ms(at), node: 'n1', type: 'gift', user, creator, room, giftId, count, coins, creatorCoins: coins - Math.floor((coins * 3000) / 10_000), stream };
};

const giftV1 = gift('v1', 'hA', 'ra', T + 150, 'rose', 3, 1, 'ra.s1');
const v2Visit = visit('v2', 's2', 'ra', T + 120, T + 720, us);

export const FIXTURE_EVENTS: readonly AnalyticsEvent[] = [
  { id: 'connect:s1', ts: ms(T + 50), node: 'n1', type: 'connect', user: 'v1', session: 's1', ...np },
  { id: 'room_start-a', ts: ms(T), node: 'n1', type: 'room_start', user: 'hA', room: 'ra', stream: 'ra.s1' },
  { id: 'room_end-a', ts: ms(T + 600), node: 'n1', type: 'room_end', user: 'hA', room: 'ra', stream: 'ra.s1', coins: 23 },
  { id: 'room_start-b', ts: ms(T + 3600), node: 'n1', type: 'room_start', user: 'hB', room: 'rb', stream: 'rb.s1' },
  { id: 'room_end-b', ts: ms(T + 3900), node: 'n1', type: 'room_end', user: 'hB', room: 'rb', stream: 'rb.s1', coins: 1 },
  ...visit('hA', 'sA', 'ra', T, T + 600, {}, 'host'),
  ...visit('hB', 'sB', 'rb', T + 3600, T + 3900, {}, 'host'),
  ...visit('v3', 's3', 'ra', T + 30, T + 75, np),
  ...visit('v1', 's1', 'ra', T + 60, T + 360, np),
  ...v2Visit,
  ...visit('v1', 's1b', 'rb', T + 3600, T + 3660, np),
  ...visit('v4', 's4', 'rb', T + 3630, T + 3690),
  ...visit('v1', 's1c', 'ra', T + DAY, T + DAY + 60, np),
  ...visit('v1', 's1d', 'ra', T + 7 * DAY, T + 7 * DAY + 60, np),
  ...visit('v2', 's2b', 'ra', T + 30 * DAY, T + 30 * DAY + 60, us),
  chat('v3', 'ra', T + 40, 'ra.s1'),
  chat('v1', 'ra', T + 100, 'ra.s1'),
  chat('v2', 'ra', T + 130, 'ra.s1'),
  chat('v2', 'ra', T + 140, 'ra.s1'),
  giftV1,
  gift('v2', 'hA', 'ra', T + 160, 'coffee', 2, 10, 'ra.s1'),
  gift('v4', 'hB', 'rb', T + 3650, 'rose', 1, 1, 'rb.s1'),
  { id: 'purchase:stripe:pi_1', ts: ms(T + 200), node: 'n1', type: 'purchase', user: 'v1', coins: 100, channel: 'stripe', currency: 'USD', amountMinor: 99, baseAmountMinor: 99 },
  { id: 'purchase:appstore:2000001', ts: ms(T + 300), node: 'n1', type: 'purchase', user: 'v2', coins: 100, channel: 'appstore', currency: 'EUR', amountMinor: 91, baseAmountMinor: 99 },
  { id: 'clawback:appstore:2000001', ts: ms(T + DAY), node: 'n1', type: 'refund', user: 'v2', coins: 100, channel: 'appstore', currency: 'EUR', amountMinor: 91, baseAmountMinor: 99 },
  { id: 'bet:w1:v1:b1', ts: ms(T + 200), node: 'n1', type: 'game_bet', user: 'v1', room: 'ra', game: 'wheel', round: 'w1', coins: 10 },
  { id: 'bet:w1:v2:b1', ts: ms(T + 201), node: 'n1', type: 'game_bet', user: 'v2', room: 'ra', game: 'wheel', round: 'w1', coins: 20 },
  { id: 'round:w1', ts: ms(T + 220), node: 'n1', type: 'game_round', room: 'ra', game: 'wheel', round: 'w1', coins: 30, paid: 20, count: 2 },
  { id: 'payout:w1:v1', ts: ms(T + 220), node: 'n1', type: 'game_payout', user: 'v1', room: 'ra', game: 'wheel', round: 'w1', coins: 20 },
  { id: 'bet:d1:v3', ts: ms(T + 300), node: 'n1', type: 'game_bet', user: 'v3', room: 'ra', game: 'duel-bot', round: 'd1', coins: 50 },
  { id: 'round:d1', ts: ms(T + 310), node: 'n1', type: 'game_round', room: 'ra', game: 'duel-bot', round: 'd1', coins: 50, paid: 95, count: 1 },
  { id: 'round:w2', ts: ms(T + DAY), node: 'n1', type: 'game_round', room: 'rb', game: 'wheel', round: 'w2', coins: 100, paid: 0, count: 1 },
  { id: 'flag:win_rate:v3:duel-bot', ts: ms(T + 320), node: 'n1', type: 'game_flag', user: 'v3', flag: 'win_rate' },
  { id: 'flag:chip_dumping:v3:v1', ts: ms(T + 330), node: 'n1', type: 'game_flag', user: 'v3', flag: 'chip_dumping' },
  { id: 'flag:chip_dumping:v1:v3', ts: ms(T + 340), node: 'n1', type: 'game_flag', user: 'v1', flag: 'chip_dumping' },
  { id: 'push:live:ra:v1>t1:sent', ts: ms(T + 5), node: 'n1', type: 'push_sent', user: 'v1', platform: 'fcm', notification: 'went_live' },
  { id: 'push:live:ra:v2>t2:sent', ts: ms(T + 6), node: 'n1', type: 'push_sent', user: 'v2', platform: 'apns', notification: 'went_live' },
  { id: 'push:live:ra:v3>t3:dead_token', ts: ms(T + 7), node: 'n1', type: 'push_failed', user: 'v3', platform: 'fcm', notification: 'went_live' },
  { id: 'opened:live:ra:v1', ts: ms(T + 60), node: 'n1', type: 'push_opened', user: 'v1', platform: 'fcm', notification: 'went_live' },
  { id: 'push:dm:v4>t4:sent', ts: ms(T + DAY), node: 'n1', type: 'push_sent', user: 'v4', platform: 'expo', notification: 'dm' },
  { id: 'report:1', ts: ms(T + 400), node: 'n1', type: 'report', user: 'v1', rule: 'spam', target: 'v3', room: 'ra' },
  { id: 'report:2', ts: ms(T + 410), node: 'n1', type: 'report', user: 'v2', rule: 'spam', target: 'v3', room: 'ra' },
  { id: 'report:3', ts: ms(T + 420), node: 'n1', type: 'report', user: 'v2', rule: 'harassment', target: 'v4' },
  { id: 'report:4', ts: ms(T + DAY), node: 'n1', type: 'report', user: 'v1', rule: 'hate', target: 'v4', room: 'rb' },
  { id: 'resolved:1', ts: ms(T + 1000), node: 'n1', type: 'report_resolved', user: 'staff', action: 'suspend', rule: 'spam', target: 'v3', durationMs: 600_000 },
  { id: 'resolved:2', ts: ms(T + 2000), node: 'n1', type: 'report_resolved', user: 'staff', action: 'dismiss', rule: 'harassment', target: 'v4', durationMs: 1_800_000 },
  { id: 'resolved:3', ts: ms(T + 2100), node: 'n1', type: 'report_resolved', user: 'staff', action: 'shadow_mute', rule: 'spam', target: 'v3', durationMs: 3_600_000 },
  { id: 'modact:ra:9', ts: ms(T + 500), node: 'n1', type: 'mod_action', user: 'hA', room: 'ra', action: 'mute', target: 'v3' },
  { id: 'modact:ra:10', ts: ms(T + 510), node: 'n1', type: 'mod_action', user: 'hA', room: 'ra', action: 'mute', target: 'v2' },
  { id: 'audit:1', ts: ms(T + 1000), node: 'n1', type: 'mod_action', user: 'staff', action: 'suspend', target: 'v3' },
  { id: 'fh:1', ts: ms(T + 30), node: 'n1', type: 'filter_hit', user: 'v3', room: 'ra', rule: 'profanity', action: 'mask' },
  { id: 'fh:2', ts: ms(T + 31), node: 'n1', type: 'filter_hit', user: 'v3', room: 'ra', rule: 'profanity', action: 'mask' },
  { id: 'fh:3', ts: ms(T + 32), node: 'n1', type: 'filter_hit', user: 'v2', room: 'rb', rule: 'links', action: 'block' },
  // Delivered twice: each must still count once.
  giftV1,
  v2Visit[1]!,
];

export interface QueryCase {
  readonly query: string;
  readonly params: QueryParams;
  /** Rows as arrays of column values, in the query's column order. */
  readonly rows: readonly (readonly (string | number)[])[];
}

const day = { from: D, to: D + DAY };
const m = (minute: number) => T + minute * 60;

export const FIXTURE_CASES: readonly QueryCase[] = [
  { query: 'concurrent_viewers', params: day, rows: [[m(0), 1, 1], [m(1), 1, 2], [m(2), 2, 2], [m(6), 1, 2], [m(12), 0, 1], [m(60), 2, 2], [m(61), 0, 2]] },
  { query: 'concurrent_viewers', params: { ...day, room: 'ra' }, rows: [[m(0), 1, 1], [m(1), 1, 2], [m(2), 2, 2], [m(6), 1, 2], [m(12), 0, 1]] },
  { query: 'concurrent_viewers', params: { from: T + 300, to: T + 3000 }, rows: [[m(6), 1, 2], [m(12), 0, 1]] },
  { query: 'gift_revenue_per_creator', params: day, rows: [[T, 'hA', 23, 17, 2], [T + 3600, 'hB', 1, 1, 1]] },
  { query: 'gift_revenue_per_creator', params: { ...day, room: 'rb' }, rows: [[T + 3600, 'hB', 1, 1, 1]] },
  { query: 'gift_revenue_per_creator', params: { from: D, to: D + 7 * DAY }, rows: [[D, 'hA', 23, 17, 2], [D, 'hB', 1, 1, 1]] },
  { query: 'top_gifts', params: day, rows: [['coffee', 2, 20], ['rose', 4, 4]] },
  { query: 'top_gifts', params: { ...day, room: 'ra' }, rows: [['coffee', 2, 20], ['rose', 3, 3]] },
  { query: 'watch_time_distribution', params: day, rows: [['< 1 min', 1], ['1-5 min', 2], ['5-15 min', 2]] },
  { query: 'watch_time_distribution', params: { ...day, room: 'rb' }, rows: [['1-5 min', 2]] },
  { query: 'chat_activity', params: day, rows: [[m(0), 1], [m(1), 1], [m(2), 2]] },
  { query: 'chat_activity', params: { ...day, room: 'rb' }, rows: [] },
  { query: 'new_vs_returning_viewers', params: { from: D, to: D + 8 * DAY }, rows: [[D, 4, 0], [D + DAY, 0, 1], [D + 7 * DAY, 0, 1]] },
  { query: 'new_vs_returning_viewers', params: { from: D, to: D + 8 * DAY, room: 'rb' }, rows: [[D, 2, 0]] },
  { query: 'unique_viewers', params: day, rows: [[D, 4, 5, 5, 1.25]] },
  { query: 'viewers_by_country', params: day, rows: [['NP', 2, 3, 405], ['(unknown)', 1, 1, 60], ['US', 1, 1, 600]] },
  { query: 'viewers_by_platform', params: day, rows: [['android', 2, 3, 405], ['(unknown)', 1, 1, 60], ['ios', 1, 1, 600]] },
  { query: 'viewers_by_app_version', params: { ...day, room: 'ra' }, rows: [['1.0', 2, 2, 345], ['2.0', 1, 1, 600]] },
  { query: 'retention_cohorts', params: day, rows: [[D, 4, 1, 1, 1]] },
  { query: 'retention_cohorts', params: { ...day, room: 'rb' }, rows: [[D, 2, 0, 0, 0]] },
  { query: 'funnel', params: day, rows: [['join', 4], ['chat', 3], ['gift', 2], ['purchase', 2]] },
  { query: 'funnel', params: { ...day, room: 'rb' }, rows: [['join', 2], ['chat', 0], ['gift', 0], ['purchase', 0]] },
  {
    query: 'stream_report', params: day, rows: [
      ['ra', 'ra.s1', 'hA', T, T + 600, 0, 600, 2, 1.38, 2, 23, 17, 2, 4],
      ['rb', 'rb.s1', 'hB', T + 3600, T + 3900, 0, 300, 2, 0.4, 1, 1, 1, 1, 0],
    ],
  },
  { query: 'stream_report', params: { ...day, room: 'rb' }, rows: [['rb', 'rb.s1', 'hB', T + 3600, T + 3900, 0, 300, 2, 0.4, 1, 1, 1, 1, 0]] },
  { query: 'top_creators', params: day, rows: [['hA', 23, 17, 2, 2], ['hB', 1, 1, 1, 1]] },
  { query: 'top_gifters', params: day, rows: [['v2', 20, 1, 1], ['v1', 3, 1, 1], ['v4', 1, 1, 1]] },
  { query: 'top_gifters', params: { ...day, room: 'rb' }, rows: [['v4', 1, 1, 1]] },
  { query: 'purchase_revenue', params: day, rows: [[D, 'appstore', 'EUR', 'appstore EUR', 1, 91, 0, 0.99], [D, 'stripe', 'USD', 'stripe USD', 1, 99, 0, 0.99]] },
  { query: 'purchase_revenue', params: { from: D, to: D + 8 * DAY }, rows: [[D, 'appstore', 'EUR', 'appstore EUR', 1, 91, 0, 0.99], [D, 'stripe', 'USD', 'stripe USD', 1, 99, 0, 0.99], [D + DAY, 'appstore', 'EUR', 'appstore EUR', 0, 0, 91, -0.99]] },
  { query: 'revenue_summary', params: day, rows: [[24, 18, 6, 3, 3, 8]] },
  { query: 'revenue_summary', params: { ...day, room: 'ra' }, rows: [[23, 17, 6, 2, 2, 11.5]] },
  { query: 'game_rtp_daily', params: day, rows: [[D, 'duel-bot', 1, 1, 50, 95, 190], [D, 'wheel', 1, 2, 30, 20, 66.67]] },
  { query: 'game_rtp_daily', params: { from: D, to: D + 2 * DAY, room: 'rb' }, rows: [[D + DAY, 'wheel', 1, 0, 100, 0, 0]] },
  { query: 'push_delivery', params: { from: D, to: D + 2 * DAY }, rows: [[D, 'went_live', 2, 1, 1, 0.5], [D + DAY, 'dm', 1, 0, 0, 0]] },
  { query: 'game_flags', params: day, rows: [['v3', 'chip_dumping, win_rate', 2, T + 330], ['v1', 'chip_dumping', 1, T + 340]] },
  { query: 'reports_daily', params: { from: D, to: D + 2 * DAY }, rows: [[D, 'harassment', 1], [D, 'spam', 2], [D + DAY, 'hate', 1]] },
  { query: 'reports_daily', params: { from: D, to: D + 2 * DAY, room: 'ra' }, rows: [[D, 'spam', 2]] },
  { query: 'report_resolution', params: day, rows: [[D, 3, 2, 30, 60]] },
  { query: 'moderation_actions', params: day, rows: [['filter profanity: mask', 2, 1], ['mute', 2, 1], ['filter links: block', 1, 1], ['suspend', 1, 1]] },
  { query: 'moderation_actions', params: { ...day, room: 'ra' }, rows: [['filter profanity: mask', 2, 1], ['mute', 2, 1]] },
];

/** ClickHouse JSON writes 64-bit integers as strings: compare as numbers where a value is numeric. */
export function normalizeRow(row: Record<string, unknown>): (string | number)[] {
  return Object.values(row).map((v) => (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : (v as string | number)));
}
