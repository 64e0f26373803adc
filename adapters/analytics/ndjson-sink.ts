/**
 * The embedded AnalyticsSink: newline-delimited JSON files, one per day, under the data folder
 * (analytics/events-YYYY-MM-DD.ndjson). Analysts can load them into ClickHouse or DuckDB later; the server
 * needs nothing running. At least once: after a crash a line may appear twice (same id; de-duplicate on load).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AnalyticsEvent } from './analytics-sink';
import { BatchingSink, type BatchingOptions } from './batching-sink';
import type { EventOutbox } from './event-outbox';

export class NdjsonSink extends BatchingSink {
  constructor(private readonly dir: string, outbox: EventOutbox, opts: BatchingOptions) {
    super(outbox, opts);
  }

  protected async deliver(batch: readonly AnalyticsEvent[]): Promise<void> {
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
