/** The AnalyticsReader on ClickHouse: one HTTP client, JSON rows. The SQL comes from analyst-queries.ts only. */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { AnalyticsReader } from './analytics-reader';

export class ClickHouseReader implements AnalyticsReader {
  private readonly client: ClickHouseClient;

  constructor(url: string, database: string, requestTimeoutMs = 30_000) {
    this.client = createClient({ url, database, request_timeout: requestTimeoutMs });
  }

  async rows(sql: string): Promise<Record<string, unknown>[]> {
    return (await (await this.client.query({ query: sql, format: 'JSONEachRow' })).json()) as Record<string, unknown>[];
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
