/**
 * The analytics schema in ClickHouse, as ordered, idempotent migrations applied at start (18.16 SQL).
 *
 * `events` is a ReplacingMergeTree ordered by (type, id): a batch delivered twice (at-least-once) leaves
 * duplicate rows only until the next merge, and every analyst query reads `events FINAL`, which
 * de-duplicates at read time. Materialized views are deliberately not used: on 18.16 a view would count a
 * re-delivered batch twice (insert de-duplication exists only for replicated tables). Every named query
 * reads `events FINAL` for exact numbers; docs/analytics.md says how a current server pre-aggregates safely.
 * Migration 3 retired the daily gift rollup of migration 2 (it could not honour a room or an hour window).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: readonly string[];
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'events',
    sql: [
      `CREATE TABLE IF NOT EXISTS events (
        id String,
        ts DateTime,
        ts_ms UInt64,
        date Date,
        node String,
        type String,
        user String,
        room String,
        platform String,
        app_version String,
        country String,
        duration_ms UInt64,
        gift_id String,
        coins UInt64,
        count UInt32,
        creator String
      ) ENGINE = ReplacingMergeTree() PARTITION BY toYYYYMM(date) ORDER BY (type, id)`,
    ],
  },
  {
    version: 2,
    name: 'gifts_daily rollup',
    sql: [
      `CREATE TABLE IF NOT EXISTS gifts_daily (
        date Date,
        creator String,
        gift_id String,
        units UInt64,
        coins UInt64,
        gifts UInt64,
        computed_at DateTime
      ) ENGINE = ReplacingMergeTree(computed_at) PARTITION BY toYYYYMM(date) ORDER BY (date, creator, gift_id)`,
    ],
  },
  {
    version: 3,
    name: 'sessions, roles, visits, streams, crash endings, creator share; daily rollup retired',
    sql: [
      `ALTER TABLE events
        ADD COLUMN creator_coins UInt64 DEFAULT 0,
        ADD COLUMN session String DEFAULT '',
        ADD COLUMN role String DEFAULT '',
        ADD COLUMN visit String DEFAULT '',
        ADD COLUMN stream String DEFAULT '',
        ADD COLUMN ended_by String DEFAULT ''`,
      'DROP TABLE IF EXISTS gifts_daily',
    ],
  },
  {
    version: 4,
    name: 'money: purchases, refunds and disputes in minor units, currency, base-currency amount, channel',
    sql: [
      `ALTER TABLE events
        ADD COLUMN amount_minor UInt64 DEFAULT 0,
        ADD COLUMN currency String DEFAULT '',
        ADD COLUMN base_amount_minor UInt64 DEFAULT 0,
        ADD COLUMN channel String DEFAULT ''`,
    ],
  },
  {
    version: 5,
    name: 'games: the game and round of game events, coins paid per round, the kind of an anomaly flag',
    sql: [
      `ALTER TABLE events
        ADD COLUMN game String DEFAULT '',
        ADD COLUMN round String DEFAULT '',
        ADD COLUMN paid UInt64 DEFAULT 0,
        ADD COLUMN flag String DEFAULT ''`,
    ],
  },
  {
    version: 6,
    name: 'push notifications: the kind of notification a push carried',
    sql: [`ALTER TABLE events ADD COLUMN notification String DEFAULT ''`],
  },
  {
    version: 7,
    name: 'moderation: what was done (action), the rule or report reason, and whom it concerned (target)',
    sql: [
      `ALTER TABLE events
        ADD COLUMN action String DEFAULT '',
        ADD COLUMN rule String DEFAULT '',
        ADD COLUMN target String DEFAULT ''`,
    ],
  },
];

export const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied DateTime) ENGINE = TinyLog`;
