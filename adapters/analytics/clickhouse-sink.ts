/**
 * AnalyticsSink into ClickHouse (@clickhouse/client, JSONEachRow over HTTP). Migrations run at start;
 * delivery is the shared outbox-and-batch loop. One ClickHouse insert per batch.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { AnalyticsEvent } from './analytics-sink';
import { BatchingSink, type BatchingOptions } from './batching-sink';
import { MIGRATIONS, MIGRATIONS_TABLE } from './clickhouse-schema';
import type { EventOutbox } from './event-outbox';

export function toRow(e: AnalyticsEvent): Record<string, string | number> {
  const seconds = Math.floor(e.ts / 1000);
  return {
    id: e.id, ts: seconds, ts_ms: e.ts, date: new Date(e.ts).toISOString().slice(0, 10), node: e.node, type: e.type,
    user: e.user ?? '', room: e.room ?? '', platform: e.platform ?? '', app_version: e.appVersion ?? '', country: e.country ?? '',
    duration_ms: e.durationMs ?? 0, gift_id: e.giftId ?? '', coins: e.coins ?? 0, count: e.count ?? 0, creator: e.creator ?? '',
    creator_coins: e.creatorCoins ?? 0, session: e.session ?? '', role: e.role ?? '', visit: e.visit ?? '', stream: e.stream ?? '',
    ended_by: e.endedBy ?? '', amount_minor: e.amountMinor ?? 0, currency: e.currency ?? '', base_amount_minor: e.baseAmountMinor ?? 0, channel: e.channel ?? '',
    game: e.game ?? '', round: e.round ?? '', paid: e.paid ?? 0, flag: e.flag ?? '', notification: e.notification ?? '',
    action: e.action ?? '', rule: e.rule ?? '', target: e.target ?? '',
  };
}

/** Applies every migration not yet recorded, in order. Safe to run on every start and from several nodes. */
export async function migrate(client: ClickHouseClient): Promise<number[]> {
  await client.command({ query: MIGRATIONS_TABLE });
  const rs = await client.query({ query: 'SELECT version FROM schema_migrations', format: 'JSONEachRow' });
  const done = new Set(((await rs.json()) as { version: number | string }[]).map((r) => Number(r.version)));
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    for (const sql of m.sql) await client.command({ query: sql });
    await client.insert({ table: 'schema_migrations', format: 'JSONEachRow', values: [{ version: m.version, name: m.name, applied: Math.floor(Date.now() / 1000) }] });
    applied.push(m.version);
  }
  return applied;
}

export class ClickHouseSink extends BatchingSink {
  private constructor(private readonly client: ClickHouseClient, outbox: EventOutbox, opts: BatchingOptions) {
    super(outbox, opts);
  }

  /** Connects and migrates; fails when ClickHouse cannot be reached at start (configured means required). */
  static async connect(url: string, outbox: EventOutbox, opts: BatchingOptions, database = 'default'): Promise<ClickHouseSink> {
    if (database !== 'default') {
      const admin = createClient({ url, request_timeout: 10_000 });
      await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
      await admin.close();
    }
    const client = createClient({ url, database, request_timeout: 10_000 });
    await migrate(client);
    return new ClickHouseSink(client, outbox, opts);
  }

  get clickhouse(): ClickHouseClient {
    return this.client;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.client.close();
  }

  protected async deliver(batch: readonly AnalyticsEvent[]): Promise<void> {
    await this.client.insert({ table: 'events', format: 'JSONEachRow', values: batch.map(toRow) });
  }
}
