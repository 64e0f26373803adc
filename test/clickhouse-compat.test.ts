/**
 * The schema and every named query on a current ClickHouse: chdb (PyPI chdb-core) embeds ClickHouse 26.x
 * in-process. The migrations run in order, the fixture history is inserted (re-delivered events too), and
 * each query must return exactly the rows it returns on the local 18.16 (analyst-queries.fixture.ts).
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { engineUrl } from './helpers/services';
import { MIGRATIONS, MIGRATIONS_TABLE } from '../adapters/analytics/clickhouse-schema';
import { QUERIES, checkParams } from '../adapters/analytics/analyst-queries';
import { FIXTURE_CASES, FIXTURE_EVENTS, normalizeRow } from '../adapters/analytics/analyst-queries.fixture';
import { toRow } from '../adapters/analytics/clickhouse-sink';

const python = engineUrl(t, 'chdb');
if (python) {
  t.test('the migrations and every named query give the same answers on a current ClickHouse', async (t) => {
    const queries = Object.fromEntries(FIXTURE_CASES.map((c, i) => [`${i}:${c.query}`, QUERIES[c.query]!.sql(checkParams(c.params))]));
    const job = {
      database: 'compat',
      statements: [MIGRATIONS_TABLE, ...MIGRATIONS.flatMap((m) => m.sql)],
      inserts: [
        { table: 'events', rows: FIXTURE_EVENTS.slice(0, -2).map(toRow) },
        { table: 'events', rows: FIXTURE_EVENTS.slice(-2).map(toRow) },
      ],
      queries,
    };
    const run = spawnSync(python, [join(__dirname, '..', '..', 'tools', 'chdb-run.py')], { input: JSON.stringify(job), encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024 });
    t.equal(run.status, 0, `chdb ran the migrations and the inserts${run.stderr ? `: ${run.stderr.slice(-2000)}` : ''}`);
    if (run.status !== 0) return;
    const out = JSON.parse(run.stdout) as { version: string; results: Record<string, Record<string, unknown>[]>; errors: Record<string, string> };
    t.match(out.version, /^2[5-9]\.|^[3-9]\d\./, `a current ClickHouse (${out.version})`);
    t.same(out.errors, {}, 'no query failed');
    FIXTURE_CASES.forEach((c, i) => {
      const key = `${i}:${c.query}`;
      t.same((out.results[key] ?? []).map(normalizeRow), c.rows, `${c.query}${c.params.room ? ` in ${c.params.room}` : ''}`);
    });
  });
}
