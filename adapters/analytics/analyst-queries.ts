/**
 * The analyst queries behind the dashboard, as named SQL (docs/analytics.md shows each one to run by
 * hand, and the rules of what each counts). The SQL runs unchanged on the local ClickHouse 18.16 and on a
 * current server (test/clickhouse-compat): no window functions, no query parameters, one JOIN per
 * SELECT, arrays for running totals, and time buckets computed from Unix seconds so the server's time
 * zone never moves a bucket. Parameters are validated here (epoch seconds, ids from a strict alphabet)
 * and written into the SQL as literals.
 *
 * Shared rules: every query takes the window [from, to) and an optional room; viewer metrics count
 * role 'viewer' only (hosts are not viewers; events recorded before roles existed count as viewers);
 * every time column is Unix seconds (UTC) at the start of its minute, hour or day.
 */
export interface QueryParams {
  /** Window start and end, Unix seconds. */
  readonly from: number;
  readonly to: number;
  readonly room?: string;
}

/** How the dashboard draws a query: which column is the x axis, which are series, and on which axis. */
export interface ChartSpec {
  readonly kind: 'line' | 'bar' | 'table';
  /**
   * The x column. `time` ones hold Unix seconds and are placed where they fall in the window, each bucket
   * `bucket` seconds long (unset: an hour for windows up to two days, else a day); `day` ones are UTC days,
   * labelled by date; `step` lines hold each value until the next row.
   */
  readonly x?: { readonly column: string; readonly time: boolean; readonly label: string; readonly day?: boolean; readonly bucket?: number; readonly step?: boolean };
  /** Columns drawn as series; `coins` series go to their own (right) axis. */
  readonly series?: readonly { readonly column: string; readonly label: string; readonly unit: 'count' | 'coins' | 'seconds' | 'usd' }[];
  /** A column whose values split one series into several (e.g. one bar per creator). */
  readonly splitBy?: string;
  /** Columns holding user ids (shown by display name on the dashboard). */
  readonly users?: readonly string[];
}

export interface NamedQuery {
  readonly title: string;
  readonly description: string;
  readonly chart: ChartSpec;
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
/** Viewers, not hosts ('' is a viewer recorded before roles existed). */
const VIEWER = "role != 'host'";
const bucket = (seconds: number) => `intDiv(toUInt32(ts), ${seconds}) * ${seconds}`;
/** Hours for windows up to two days, else UTC days. */
const revenueBucket = (p: QueryParams) => bucket(p.to - p.from <= 2 * 86_400 ? 3600 : 86_400);

const VIEWER_SERIES = [
  { column: 'viewers', label: 'unique viewers', unit: 'count' },
  { column: 'visits', label: 'visits', unit: 'count' },
] as const;

/** Viewers, visits and watch time by one attribute of the client (from its hello). */
function viewersBy(column: string, title: string): NamedQuery {
  return {
    title: `Viewers by ${title}`,
    description: `Unique viewers and room visits (joins in the window) and watch time (leaves in the window) per ${title}, from what the client's hello said ('(unknown)' when it said nothing).`,
    chart: { kind: 'bar', x: { column, time: false, label: title }, series: [...VIEWER_SERIES] },
    sql: (p) => `SELECT if(${column} = '', '(unknown)', ${column}) AS ${column}, uniqExactIf(user, type = 'join') AS viewers, countIf(type = 'join') AS visits,
  intDiv(sumIf(duration_ms, type = 'leave'), 1000) AS watch_seconds
FROM events FINAL
WHERE type IN ('join', 'leave') AND ${VIEWER} AND ${window(p)}${inRoom(p)}
GROUP BY ${column}
ORDER BY viewers DESC, ${column}`,
  };
}

export const QUERIES: Record<string, NamedQuery> = {
  concurrent_viewers: {
    title: 'Concurrent viewers',
    description: 'Per minute in which a viewer joined or left: viewers present at the end of the minute and the peak during it (every join and leave of viewers from the beginning of the data, in time order, so the window starts right; a crash-ended visit ends at the node\'s last heartbeat).',
    chart: { kind: 'line', x: { column: 'minute', time: true, label: 'time', bucket: 60, step: true }, series: [{ column: 'viewers', label: 'viewers at the minute\'s end', unit: 'count' }, { column: 'peak_viewers', label: 'peak in the minute', unit: 'count' }] },
    sql: (p) => `SELECT intDiv(tupleElement(step, 1), 60000) * 60 AS minute, argMax(level, n) AS viewers, max(greatest(level, before)) AS peak_viewers
FROM (
  SELECT arraySort(groupArray((ts_ms, if(type = 'join', 1, -1)))) AS steps, arrayCumSum(arrayMap(x -> x.2, steps)) AS levels,
    arrayPushFront(arrayPopBack(levels), 0) AS befores
  FROM events FINAL
  WHERE type IN ('join', 'leave') AND ${VIEWER} AND ts < toDateTime(${p.to})${inRoom(p)}
) ARRAY JOIN steps AS step, levels AS level, befores AS before, arrayEnumerate(levels) AS n
WHERE tupleElement(step, 1) >= ${Math.floor(p.from / 60) * 60_000}
GROUP BY minute
ORDER BY minute`,
  },
  gift_revenue_per_creator: {
    title: 'Gift revenue per creator',
    description: 'Coins spent on gifts to each creator (gross) and the creator\'s part after the platform share, per hour for windows up to two days, else per UTC day.',
    chart: { kind: 'bar', x: { column: 'bucket', time: true, label: 'time (one bar per hour, or per day beyond two days)' }, series: [{ column: 'coins', label: 'coins (gross)', unit: 'coins' }], splitBy: 'creator', users: ['creator'] },
    sql: (p) => `SELECT ${revenueBucket(p)} AS bucket, creator, sum(coins) AS coins, sum(creator_coins) AS creator_coins, count() AS gifts
FROM events FINAL
WHERE type = 'gift' AND ${window(p)}${inRoom(p)}
GROUP BY bucket, creator
ORDER BY bucket, coins DESC, creator`,
  },
  top_gifts: {
    title: 'Top gifts',
    description: 'Which gifts sell: units sent and coins spent per catalog gift.',
    chart: { kind: 'bar', x: { column: 'gift_id', time: false, label: 'gift' }, series: [{ column: 'units', label: 'units', unit: 'count' }, { column: 'coins', label: 'coins', unit: 'coins' }] },
    sql: (p) => `SELECT gift_id, sum(count) AS units, sum(coins) AS coins
FROM events FINAL
WHERE type = 'gift' AND ${window(p)}${inRoom(p)}
GROUP BY gift_id
ORDER BY coins DESC, gift_id
LIMIT 20`,
  },
  watch_time_distribution: {
    title: 'Watch time distribution',
    description: 'How long viewers stayed in a room, from each viewer\'s leave in the window (ended by the client, the server or a crash).',
    chart: { kind: 'bar', x: { column: 'bucket', time: false, label: 'watch time' }, series: [{ column: 'visits', label: 'visits', unit: 'count' }] },
    sql: (p) => `SELECT bucket, visits FROM (
  SELECT multiIf(duration_ms < 60000, 1, duration_ms < 300000, 2, duration_ms < 900000, 3, duration_ms < 3600000, 4, 5) AS b,
         multiIf(b = 1, '< 1 min', b = 2, '1-5 min', b = 3, '5-15 min', b = 4, '15-60 min', '60+ min') AS bucket,
         count() AS visits
  FROM events FINAL
  WHERE type = 'leave' AND ${VIEWER} AND ${window(p)}${inRoom(p)}
  GROUP BY b, bucket)
ORDER BY b`,
  },
  chat_activity: {
    title: 'Chat activity',
    description: 'Chat messages per minute (counts only: message text never reaches analytics).',
    chart: { kind: 'bar', x: { column: 'minute', time: true, label: 'time (one bar per minute)', bucket: 60 }, series: [{ column: 'messages', label: 'messages', unit: 'count' }] },
    sql: (p) => `SELECT ${bucket(60)} AS minute, count() AS messages
FROM events FINAL
WHERE type = 'chat' AND ${window(p)}${inRoom(p)}
GROUP BY minute
ORDER BY minute`,
  },
  new_vs_returning_viewers: {
    title: 'New vs returning viewers',
    description: 'Per UTC day, viewers whose first visit ever (to the room, when one is chosen) was that day, and viewers first seen on an earlier day.',
    chart: { kind: 'bar', x: { column: 'day', time: true, label: 'day', day: true }, series: [{ column: 'new_viewers', label: 'new', unit: 'count' }, { column: 'returning_viewers', label: 'returning', unit: 'count' }] },
    sql: (p) => `SELECT day, sum(first = day) AS new_viewers, sum(first < day) AS returning_viewers
FROM (
  SELECT DISTINCT ${bucket(86_400)} AS day, user FROM events FINAL WHERE type = 'join' AND ${VIEWER} AND ${window(p)}${inRoom(p)}
) AS visits ALL INNER JOIN (
  SELECT user, min(${bucket(86_400)}) AS first FROM events FINAL WHERE type = 'join' AND ${VIEWER}${inRoom(p)} GROUP BY user
) AS firsts USING user
GROUP BY day
ORDER BY day`,
  },
  unique_viewers: {
    title: 'Unique viewers and sessions',
    description: 'Per UTC day: unique viewers, the connections (sessions) they visited rooms from, room visits, and sessions per viewer.',
    chart: { kind: 'bar', x: { column: 'day', time: true, label: 'day', day: true }, series: [{ column: 'viewers', label: 'unique viewers', unit: 'count' }, { column: 'sessions', label: 'sessions', unit: 'count' }, { column: 'visits', label: 'visits', unit: 'count' }] },
    sql: (p) => `SELECT ${bucket(86_400)} AS day, uniqExact(user) AS viewers, uniqExact(session) AS sessions, count() AS visits,
  round(uniqExact(session) / uniqExact(user), 2) AS sessions_per_viewer
FROM events FINAL
WHERE type = 'join' AND ${VIEWER} AND ${window(p)}${inRoom(p)}
GROUP BY day
ORDER BY day`,
  },
  viewers_by_country: viewersBy('country', 'country'),
  viewers_by_platform: viewersBy('platform', 'platform'),
  viewers_by_app_version: viewersBy('app_version', 'app version'),
  retention_cohorts: {
    title: 'Retention cohorts',
    description: 'Viewers grouped by the UTC day of their first visit (cohorts starting in the window); of each cohort, how many visited again exactly 1, 7 and 30 days later (any time after the window counts).',
    chart: { kind: 'table', x: { column: 'cohort', time: true, label: 'first day', day: true } },
    sql: (p) => `SELECT first_day * 86400 AS cohort, count() AS viewers, sum(has(days, first_day + 1)) AS day1, sum(has(days, first_day + 7)) AS day7,
  sum(has(days, first_day + 30)) AS day30
FROM (
  SELECT user, min(day) AS first_day, groupUniqArray(day) AS days FROM (
    SELECT user, intDiv(toUInt32(ts), 86400) AS day FROM events FINAL WHERE type = 'join' AND ${VIEWER}${inRoom(p)})
  GROUP BY user)
WHERE first_day >= ${Math.floor(p.from / 86_400)} AND first_day * 86400 < ${p.to}
GROUP BY first_day
ORDER BY first_day`,
  },
  funnel: {
    title: 'Funnel: join → chat → gift → purchase',
    description: 'Users who, within the window, joined a room as a viewer; of them, who also chatted; of those, who also sent a gift; of those, who also bought coins (purchases are not per room).',
    chart: { kind: 'bar', x: { column: 'step', time: false, label: 'step' }, series: [{ column: 'users', label: 'users', unit: 'count' }] },
    sql: (p) => `SELECT step, users FROM (
  SELECT [sum(j), sum(j * c), sum(j * c * g), sum(j * c * g * b)] AS counts FROM (
    SELECT user, max(type = 'join' AND ${VIEWER}) AS j, max(type = 'chat') AS c, max(type = 'gift') AS g, max(type = 'purchase') AS b
    FROM events FINAL
    WHERE type IN ('join', 'chat', 'gift', 'purchase') AND ${window(p)}${p.room ? ` AND (type = 'purchase' OR room = '${p.room}')` : ''}
    GROUP BY user))
ARRAY JOIN counts AS users, ['join', 'chat', 'gift', 'purchase'] AS step`,
  },
  stream_report: {
    title: 'Streams',
    description: 'Each live stream that started in the window: host, length, peak and average viewers (from viewer visits overlapping the stream), gifts, coins (gross and the creator\'s part), gifters and chat messages. A stream still live runs to the end of the window or now.',
    chart: { kind: 'table', users: ['host'] },
    sql: (p) => `SELECT room, stream, host, intDiv(start_ms, 1000) AS started, intDiv(end_ms, 1000) AS ended, live, intDiv(end_ms - start_ms, 1000) AS length_s,
  peak_viewers, round(viewer_ms / greatest(1, end_ms - start_ms), 2) AS avg_viewers, gifts, coins, creator_coins, gifters, chats
FROM (
  SELECT * FROM (
    SELECT room, stream, host, start_ms, end_ms, live,
      sumIf(toInt64(least(v_end, end_ms)) - toInt64(greatest(v_start, start_ms)), v_start < end_ms AND v_end > start_ms) AS viewer_ms,
      arraySort(arrayConcat(
        arrayMap(t -> (t, 1), groupArrayIf(greatest(v_start, start_ms), v_start < end_ms AND v_end > start_ms)),
        arrayMap(t -> (t, -1), groupArrayIf(v_end, v_start < end_ms AND v_end > start_ms AND v_end < end_ms)))) AS steps,
      if(empty(steps), 0, arrayReduce('max', arrayCumSum(arrayMap(x -> x.2, steps)))) AS peak_viewers
    FROM (
      SELECT room, stream, host, start_ms, if(ended_ms = 0, least(toUInt64(${p.to}) * 1000, toUInt64(now()) * 1000), ended_ms) AS end_ms, ended_ms = 0 AS live FROM (
        SELECT stream, room, user AS host, ts_ms AS start_ms FROM events FINAL WHERE type = 'room_start' AND ${window(p)}${inRoom(p)}
      ) AS starts ANY LEFT JOIN (
        SELECT stream, ts_ms AS ended_ms FROM events FINAL WHERE type = 'room_end'${inRoom(p)}
      ) AS ends USING stream
    ) AS streams ALL LEFT JOIN (
      SELECT room, v_start, if(left_ms = 0, toUInt64(4102444800000), left_ms) AS v_end FROM (
        SELECT id AS visit, room, ts_ms AS v_start FROM events FINAL WHERE type = 'join' AND ${VIEWER}${inRoom(p)}
      ) AS joins ANY LEFT JOIN (
        SELECT visit, ts_ms AS left_ms FROM events FINAL WHERE type = 'leave'${inRoom(p)}
      ) AS leaves USING visit
    ) AS visits USING room
    GROUP BY room, stream, host, start_ms, end_ms, live
  ) AS audience ANY LEFT JOIN (
    SELECT stream, count() AS gifts, sum(coins) AS coins, sum(creator_coins) AS creator_coins, uniqExact(user) AS gifters
    FROM events FINAL WHERE type = 'gift' AND stream != ''${inRoom(p)} GROUP BY stream
  ) AS gift_totals USING stream
) AS with_gifts ANY LEFT JOIN (
  SELECT stream, count() AS chats FROM events FINAL WHERE type = 'chat' AND stream != ''${inRoom(p)} GROUP BY stream
) AS chat_totals USING stream
ORDER BY started, room`,
  },
  top_creators: {
    title: 'Top creators',
    description: 'Creators by coins received from gifts in the window: gross, their part after the platform share, gifts and distinct gifters.',
    chart: { kind: 'bar', x: { column: 'creator', time: false, label: 'creator' }, series: [{ column: 'coins', label: 'coins (gross)', unit: 'coins' }, { column: 'creator_coins', label: 'creator\'s part', unit: 'coins' }], users: ['creator'] },
    sql: (p) => `SELECT creator, sum(coins) AS coins, sum(creator_coins) AS creator_coins, count() AS gifts, uniqExact(user) AS gifters
FROM events FINAL
WHERE type = 'gift' AND ${window(p)}${inRoom(p)}
GROUP BY creator
ORDER BY coins DESC, creator
LIMIT 20`,
  },
  top_gifters: {
    title: 'Top gifters',
    description: 'Viewers by coins spent on gifts in the window, with gifts sent and distinct creators gifted.',
    chart: { kind: 'bar', x: { column: 'user', time: false, label: 'gifter' }, series: [{ column: 'coins', label: 'coins spent', unit: 'coins' }], users: ['user'] },
    sql: (p) => `SELECT user, sum(coins) AS coins, count() AS gifts, uniqExact(creator) AS creators
FROM events FINAL
WHERE type = 'gift' AND ${window(p)}${inRoom(p)}
GROUP BY user
ORDER BY coins DESC, user
LIMIT 20`,
  },
  purchase_revenue: {
    title: 'Purchase revenue by channel and currency',
    description: 'Per UTC day, channel (stripe, appstore, googleplay) and currency: coin purchases, the money they brought (minor units of the currency), what refunds, disputes and revocations took back that day, and the net in USD (the catalog\'s base price of each package). Purchases belong to no room: the room filter does not apply.',
    chart: { kind: 'bar', x: { column: 'day', time: true, label: 'day', day: true }, series: [{ column: 'net_usd', label: 'net USD', unit: 'usd' }], splitBy: 'channel_currency' },
    sql: (p) => `SELECT ${bucket(86_400)} AS day, channel, currency, concat(channel, ' ', currency) AS channel_currency,
  countIf(type = 'purchase') AS purchases, sumIf(amount_minor, type = 'purchase') AS gross_minor, sumIf(amount_minor, type IN ('refund', 'dispute')) AS reversed_minor,
  round((toInt64(sumIf(base_amount_minor, type = 'purchase')) - toInt64(sumIf(base_amount_minor, type IN ('refund', 'dispute')))) / 100, 2) AS net_usd
FROM events FINAL
WHERE type IN ('purchase', 'refund', 'dispute') AND ${window(p)}
GROUP BY day, channel, currency
ORDER BY day, channel, currency`,
  },
  revenue_summary: {
    title: 'Revenue summary',
    description: 'Coins spent on gifts in the window (gross), the creators\' part, the platform\'s part (gross minus creators\'), paying users (distinct gifters) and coins per paying user.',
    chart: { kind: 'table' },
    sql: (p) => `SELECT sum(coins) AS coins, sum(creator_coins) AS creator_coins, coins - creator_coins AS platform_coins, count() AS gifts,
  uniqExact(user) AS paying_users, if(paying_users = 0, 0, round(coins / paying_users, 2)) AS coins_per_paying_user
FROM events FINAL
WHERE type = 'gift' AND ${window(p)}${inRoom(p)}`,
  },
  game_rtp_daily: {
    title: 'Games: measured return to player per day',
    description: 'Per UTC day and game (wheel, duel, duel-bot): settled rounds, distinct players who staked, coins staked in those rounds, coins paid out to players, and the measured RTP (paid ÷ staked, percent) to compare with the configured one (docs/games.md). Host shares and the house margin are the rest.',
    chart: { kind: 'line', x: { column: 'day', time: true, label: 'day', day: true }, series: [{ column: 'rtp_pct', label: 'measured RTP %', unit: 'count' }], splitBy: 'game' },
    sql: (p) => `SELECT ${bucket(86_400)} AS day, game, countIf(type = 'game_round') AS rounds, uniqExactIf(user, type = 'game_bet') AS players,
  sumIf(coins, type = 'game_round') AS staked, sumIf(paid, type = 'game_round') AS paid, if(staked = 0, 0, round(100 * paid / staked, 2)) AS rtp_pct
FROM events FINAL
WHERE type IN ('game_round', 'game_bet') AND ${window(p)}${inRoom(p)}
GROUP BY day, game
ORDER BY day, game`,
  },
  game_flags: {
    title: 'Games: flagged players',
    description: 'Players with anomaly flags raised in the window (win_rate, chip_dumping, disputed_stake; docs/games.md § Anomaly flags), newest kinds first by count. Flags belong to players, not rooms: the room filter does not apply. Staff act on them at /v1/admin/games/flags.',
    chart: { kind: 'table', users: ['user'] },
    sql: (p) => `SELECT user, arrayStringConcat(arraySort(groupUniqArray(flag)), ', ') AS kinds, count() AS flags, max(toUInt32(ts)) AS last_flagged
FROM events FINAL
WHERE type = 'game_flag' AND ${window(p)}
GROUP BY user
ORDER BY flags DESC, user
LIMIT 50`,
  },
  push_delivery: {
    title: 'Push notifications: sent, failed, opened',
    description: 'Per UTC day and kind of notification (went_live, dm…): pushes the providers accepted, pushes that failed for good (gave up after retries, refused, or a dead token), notifications users opened (the app reports it), and opens per sent push. Pushes belong to users, not rooms: the room filter does not apply.',
    chart: { kind: 'bar', x: { column: 'day', time: true, label: 'day', day: true }, series: [{ column: 'sent', label: 'sent', unit: 'count' }, { column: 'failed', label: 'failed', unit: 'count' }, { column: 'opened', label: 'opened', unit: 'count' }] },
    sql: (p) => `SELECT ${bucket(86_400)} AS day, notification, countIf(type = 'push_sent') AS sent, countIf(type = 'push_failed') AS failed, countIf(type = 'push_opened') AS opened,
  if(sent = 0, 0, round(opened / sent, 4)) AS open_rate
FROM events FINAL
WHERE type IN ('push_sent', 'push_failed', 'push_opened') AND ${window(p)}
GROUP BY day, notification
ORDER BY day, notification`,
  },
  reports_daily: {
    title: 'Moderation: reports per day by reason',
    description: 'Reports users filed per UTC day, by reason (docs/moderation.md § Reports); a report joining an open one on the same target counts too, since each is a person asking. Reports of users have no room: the room filter keeps reports of that room and its messages.',
    chart: { kind: 'bar', x: { column: 'day', time: true, label: 'day', day: true }, series: [{ column: 'reports', label: 'reports', unit: 'count' }], splitBy: 'reason' },
    sql: (p) => `SELECT ${bucket(86_400)} AS day, rule AS reason, count() AS reports
FROM events FINAL
WHERE type = 'report' AND ${window(p)}${inRoom(p)}
GROUP BY day, reason
ORDER BY day, reason`,
  },
  report_resolution: {
    title: 'Moderation: time to resolution',
    description: 'Reports staff resolved per UTC day: how many, how many with an action (not dismissed), and the median and 90th percentile time from the first report to the decision, in minutes.',
    chart: { kind: 'line', x: { column: 'day', time: true, label: 'day', day: true }, series: [{ column: 'p50_min', label: 'median minutes', unit: 'count' }, { column: 'p90_min', label: '90th percentile minutes', unit: 'count' }] },
    sql: (p) => `SELECT ${bucket(86_400)} AS day, count() AS resolved, countIf(action != 'dismiss') AS actioned,
  round(quantileExact(0.5)(duration_ms) / 60000, 1) AS p50_min, round(quantileExact(0.9)(duration_ms) / 60000, 1) AS p90_min
FROM events FINAL
WHERE type = 'report_resolved' AND ${window(p)}
GROUP BY day
ORDER BY day`,
  },
  moderation_actions: {
    title: 'Moderation: actions and filter decisions',
    description: 'What was done in the window: room moderators\' and staff actions (mute, kick, ban, delete, suspend, shadow_mute…) and the chat filter\'s decisions (rule: action, e.g. profanity: mask), most frequent first.',
    chart: { kind: 'table' },
    sql: (p) => `SELECT if(type = 'filter_hit', concat('filter ', rule, ': ', action), action) AS what, count() AS times, uniqExact(user) AS users
FROM events FINAL
WHERE type IN ('mod_action', 'filter_hit') AND ${window(p)}${inRoom(p)}
GROUP BY what
ORDER BY times DESC, what
LIMIT 50`,
  },
};
