/**
 * The analyst queries behind the dashboard, as named SQL for ClickHouse 18.16 (docs/analytics.md shows
 * each one to run by hand). 18.16 has no server-side query parameters, so parameters are validated here
 * (epoch seconds, ids from a strict alphabet) and written into the SQL as literals.
 */
export interface QueryParams {
  /** Window start and end, Unix seconds. */
  readonly from: number;
  readonly to: number;
  readonly room?: string;
}

export interface NamedQuery {
  readonly title: string;
  readonly description: string;
  readonly chart: 'line' | 'bar';
  sql(p: QueryParams): string;
}

const ID = /^[A-Za-z0-9_:.-]{1,64}$/;

export function checkParams(p: QueryParams): QueryParams {
  if (!Number.isSafeInteger(p.from) || !Number.isSafeInteger(p.to) || p.from < 0 || p.to <= p.from) throw new Error('from and to must be Unix seconds with from < to');
  if (p.room !== undefined && !ID.test(p.room)) throw new Error('room must be an id');
  return p;
}

const window = (p: QueryParams) => `ts >= toDateTime(${p.from}) AND ts < toDateTime(${p.to})`;
const inRoom = (p: QueryParams) => (p.room ? ` AND room = '${p.room}'` : '');

export const QUERIES: Record<string, NamedQuery> = {
  concurrent_viewers: {
    title: 'Concurrent viewers',
    description: 'Viewers present at the end of each minute (joins minus leaves, accumulated from the beginning of the data so the window starts right), overall or in one room.',
    chart: 'line',
    sql: (p) => `SELECT minute, viewers FROM (
  SELECT minute, runningAccumulate(delta) AS viewers FROM (
    SELECT toStartOfMinute(ts) AS minute, sumState(toInt64(if(type = 'join', 1, -1))) AS delta
    FROM events FINAL
    WHERE type IN ('join', 'leave') AND ts < toDateTime(${p.to})${inRoom(p)}
    GROUP BY minute ORDER BY minute))
WHERE minute >= toStartOfMinute(toDateTime(${p.from}))
ORDER BY minute`,
  },
  gift_revenue_per_creator_per_day: {
    title: 'Gift revenue per creator per day',
    description: 'Coins spent on gifts to each creator, per UTC day (before the platform share), from the gifts_daily rollup (recomputed every minute).',
    chart: 'bar',
    sql: (p) => `SELECT date, creator, sum(coins) AS coins, sum(gifts) AS gifts
FROM gifts_daily FINAL
WHERE date >= toDate(toDateTime(${p.from})) AND date <= toDate(toDateTime(${p.to}))
GROUP BY date, creator
ORDER BY date, coins DESC`,
  },
  top_gifts: {
    title: 'Top gifts',
    description: 'Which gifts sell: units sent and coins spent per catalog gift.',
    chart: 'bar',
    sql: (p) => `SELECT gift_id, sum(count) AS units, sum(coins) AS coins
FROM events FINAL
WHERE type = 'gift' AND ${window(p)}${inRoom(p)}
GROUP BY gift_id
ORDER BY coins DESC
LIMIT 20`,
  },
  watch_time_distribution: {
    title: 'Watch time distribution',
    description: 'How long viewers stayed in a room before leaving (from each leave event).',
    chart: 'bar',
    sql: (p) => `SELECT bucket, viewers FROM (
  SELECT multiIf(duration_ms < 60000, 1, duration_ms < 300000, 2, duration_ms < 900000, 3, duration_ms < 3600000, 4, 5) AS b,
         multiIf(b = 1, '< 1 min', b = 2, '1-5 min', b = 3, '5-15 min', b = 4, '15-60 min', '60+ min') AS bucket,
         count() AS viewers
  FROM events FINAL
  WHERE type = 'leave' AND ${window(p)}${inRoom(p)}
  GROUP BY b, bucket)
ORDER BY b`,
  },
  chat_activity: {
    title: 'Chat activity',
    description: 'Chat messages per minute (counts only: message text never reaches analytics).',
    chart: 'line',
    sql: (p) => `SELECT toStartOfMinute(ts) AS minute, count() AS messages
FROM events FINAL
WHERE type = 'chat' AND ${window(p)}${inRoom(p)}
GROUP BY minute
ORDER BY minute`,
  },
  new_vs_returning_viewers: {
    title: 'New vs returning viewers',
    description: 'Per day, viewers joining for the first time ever versus viewers seen on an earlier day.',
    chart: 'bar',
    sql: (p) => `SELECT date, sum(first = date) AS new_viewers, sum(first < date) AS returning_viewers
FROM (
  SELECT DISTINCT date, user FROM events FINAL WHERE type = 'join' AND ${window(p)}${inRoom(p)}
) ANY INNER JOIN (
  SELECT user, min(date) AS first FROM events FINAL WHERE type = 'join' GROUP BY user
) USING user
GROUP BY date
ORDER BY date`,
  },
};
