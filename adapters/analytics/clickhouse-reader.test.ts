import t from 'tap';
import { createClient } from '@clickhouse/client';
import { ClickHouseReader } from './clickhouse-reader';
import { engineUrl } from '../../test/helpers/services';

const url = engineUrl(t, 'clickhouse');
if (url) {
  t.test('the reader runs SQL in its database and returns JSON rows', async (t) => {
    const database = `reader_test_${process.pid}`;
    const admin = createClient({ url });
    await admin.command({ query: `CREATE DATABASE IF NOT EXISTS ${database}` });
    await admin.command({ query: `CREATE TABLE ${database}.t (k String, v UInt32) ENGINE = Memory` });
    await admin.insert({ table: `${database}.t`, format: 'JSONEachRow', values: [{ k: 'a', v: 1 }, { k: 'b', v: 2 }] });
    t.teardown(async () => {
      await admin.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await admin.close();
    });
    const reader = new ClickHouseReader(url, database);
    t.teardown(() => reader.close());
    const rows = await reader.rows('SELECT k, v FROM t ORDER BY k');
    t.same(rows.map((r) => [r.k, Number(r.v)]), [['a', 1], ['b', 2]]);
    await t.rejects(reader.rows('SELECT nope FROM t'), 'a bad query is an error, not an empty result');
  });
}
