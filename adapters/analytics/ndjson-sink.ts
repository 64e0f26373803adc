/**
 * The embedded AnalyticsSink: newline-delimited JSON files, one per day, under the data folder
 * (analytics/events-YYYY-MM-DD.ndjson). Analysts can load them into ClickHouse or DuckDB later; the server
 * needs nothing running.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalyticsEvent, AnalyticsSink, SinkStats } from './analytics-sink';
import { BatchingSink, type BatchingOptions } from './batching-sink';

export class NdjsonSink implements AnalyticsSink {
  private readonly batching: BatchingSink;

  constructor(private readonly dir: string, opts: BatchingOptions) {
    this.batching = new BatchingSink((batch) => this.write(batch), opts);
  }

  record(event: AnalyticsEvent): void {
    this.batching.record(event);
  }

  flush(): Promise<void> {
    return this.batching.flush();
  }

  stats(): SinkStats {
    return this.batching.stats();
  }

  close(): Promise<void> {
    return this.batching.close();
  }

  private async write(batch: readonly AnalyticsEvent[]): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const byDay = new Map<string, string[]>();
    for (const e of batch) {
      const day = new Date(e.ts).toISOString().slice(0, 10);
      let lines = byDay.get(day);
      if (!lines) byDay.set(day, (lines = []));
      lines.push(JSON.stringify(e));
    }
    for (const [day, lines] of byDay) await appendFile(join(this.dir, `events-${day}.ndjson`), `${lines.join('\n')}\n`);
  }
}
