import t from 'tap';
import { createClient } from '@clickhouse/client';
import { engineUrl } from '../helpers/services';

const url = engineUrl(t, 'clickhouse');
if (url) {
  t.test('@clickhouse/client insert (JSONEachRow) and select against ClickHouse 18.16', async (t) => {
    const ch = createClient({ url });
    t.teardown(() => ch.close());
    const table = `smoke_${process.pid}_${Date.now()}`;
    await ch.command({ query: `CREATE TABLE ${table} (id String, coins UInt32, at DateTime) ENGINE = MergeTree ORDER BY id` });
    t.teardown(() => ch.command({ query: `DROP TABLE IF EXISTS ${table}` }));
    await ch.insert({ table, format: 'JSONEachRow', values: [
      { id: 'g1', coins: 10, at: '2026-11-25 10:00:00' },
      { id: 'g2', coins: 32, at: '2026-11-25 10:00:01' },
    ] });
    const rs = await ch.query({ query: `SELECT count() AS n, sum(coins) AS coins FROM ${table}`, format: 'JSONEachRow' });
    const [row] = (await rs.json()) as { n: string | number; coins: string | number }[];
    t.equal(Number(row!.n), 2);
    t.equal(Number(row!.coins), 42);
    const version = await (await ch.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
    t.match(version[0]!.v, /^\d+\./, `server ${version[0]!.v}`);
  });
}
