/**
 * Pre-aggregated tables, recomputed from `events FINAL` for the most recent days. Each run writes fresh
 * rows versioned by `computed_at` into a ReplacingMergeTree, so reading the rollup `FINAL` sees the latest
 * computation, re-runs are idempotent, and a re-delivered event batch never counts twice (the source is
 * already de-duplicated). Dashboards read the rollup; the per-event table stays the source of truth.
 */
import type { ClickHouseClient } from '@clickhouse/client';

export interface Rollup {
  readonly table: string;
  /** INSERT … SELECT recomputing the last `days` days (today included). */
  sql(days: number): string;
}

export const ROLLUPS: readonly Rollup[] = [
  {
    table: 'gifts_daily',
    sql: (days) => `INSERT INTO gifts_daily (date, creator, gift_id, units, coins, gifts, computed_at)
SELECT date, creator, gift_id, sum(count) AS units, sum(coins) AS coins, count() AS gifts, now() AS computed_at
FROM events FINAL
WHERE type = 'gift' AND date >= today() - ${Math.max(0, Math.floor(days) - 1)}
GROUP BY date, creator, gift_id`,
  },
];

export async function runRollups(client: ClickHouseClient, days: number): Promise<void> {
  for (const r of ROLLUPS) await client.command({ query: r.sql(days) });
}
