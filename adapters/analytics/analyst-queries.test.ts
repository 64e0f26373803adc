/**
 * Every named query against the real ClickHouse, on a known history (analyst-queries.fixture.ts) with
 * exact expected rows: room filters, viewer-only counting, de-duplication of re-delivered events.
 */
import t from 'tap';
import { createClient } from '@clickhouse/client';
import { engineUrl } from '../../test/helpers/services';
import { QUERIES, checkParams } from './analyst-queries';
import { FIXTURE_CASES, FIXTURE_EVENTS, normalizeRow } from './analyst-queries.fixture';
import { migrate, toRow } from './clickhouse-sink';

const url = engineUrl(t, 'clickhouse');
if (url) {
  const database = `analyst_queries_${process.pid}_${Date.now()}`;
  const admin = createClient({ url });
  const db = createClient({ url, database });
  t.teardown(async () => {
    await db.close();
    await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
    await admin.close();
  });

  t.before(async () => {
    await admin.command({ query: `CREATE DATABASE ${database}` });
    await migrate(db);
    // Two inserts, as two deliveries: the second carries the re-delivered events.
    const half = FIXTURE_EVENTS.length - 2;
    await db.insert({ table: 'events', format: 'JSONEachRow', values: FIXTURE_EVENTS.slice(0, half).map(toRow) });
    await db.insert({ table: 'events', format: 'JSONEachRow', values: FIXTURE_EVENTS.slice(half).map(toRow) });
  });

  t.test('every named query has at least one exact case', async (t) => {
    t.same(Object.keys(QUERIES).filter((name) => !FIXTURE_CASES.some((c) => c.query === name)), []);
  });

  for (const c of FIXTURE_CASES) {
    t.test(`${c.query}${c.params.room ? ` in ${c.params.room}` : ''} (${(c.params.to - c.params.from) / 86_400} d)`, async (t) => {
      const rs = await db.query({ query: QUERIES[c.query]!.sql(checkParams(c.params)), format: 'JSONEachRow' });
      t.same(((await rs.json()) as Record<string, unknown>[]).map(normalizeRow), c.rows);
    });
  }
}
