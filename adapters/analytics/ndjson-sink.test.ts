import t from 'tap';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NdjsonSink } from './ndjson-sink';
import { EventOutbox } from './event-outbox';
import { analyticsSinkConformance } from './analytics-sink.conformance';

const dir = mkdtempSync(join(tmpdir(), 'hb-ndjson-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const readBack = async (prefix: string) => readdirSync(dir).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
  .map((line) => (JSON.parse(line) as { id: string }).id).filter((id) => id.startsWith(prefix));

analyticsSinkConformance(t, 'ndjson', { open: async (outbox, opts) => new NdjsonSink(dir, outbox, opts), readBack });

t.test('ndjson: one file per UTC day, one JSON object per line', async (t) => {
  const sink = new NdjsonSink(dir, EventOutbox.open(':memory:', 100), { maxQueue: 100, batchSize: 100, flushIntervalMs: 10, minBackoffMs: 10, maxBackoffMs: 100 });
  sink.record({ id: 'day-a', ts: Date.UTC(2030, 0, 1, 23, 59), node: 'n', type: 'join' });
  sink.record({ id: 'day-b', ts: Date.UTC(2030, 0, 2, 0, 1), node: 'n', type: 'leave', durationMs: 5 });
  await sink.flush();
  await sink.close();
  t.match(readFileSync(join(dir, 'events-2030-01-01.ndjson'), 'utf8'), /"id":"day-a"/);
  t.same(JSON.parse(readFileSync(join(dir, 'events-2030-01-02.ndjson'), 'utf8').trim()), { id: 'day-b', ts: Date.UTC(2030, 0, 2, 0, 1), node: 'n', type: 'leave', durationMs: 5 });
});
