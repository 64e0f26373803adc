/**
 * The dashboard's catalog (config/locales/dashboard) against the named queries: every query's title,
 * description, x label and series labels have a message in every shipped language, and no message names a
 * query or series that no longer exists. MessageCatalog itself fails on a key missing in any language.
 */
import t from 'tap';
import { join } from 'node:path';
import { QUERIES } from '../adapters/analytics/analyst-queries';
import { MessageCatalog } from './message-catalog';
import { LOCALES } from './locales';

const catalog = MessageCatalog.fromDir(join(__dirname, '..', '..', 'config', 'locales', 'dashboard'));

t.test('every named query has its texts in every language, and nothing stale', async (t) => {
  const wanted = new Set<string>();
  for (const [name, q] of Object.entries(QUERIES)) {
    wanted.add(`query.${name}.title`);
    wanted.add(`query.${name}.description`);
    if (q.chart.x) wanted.add(`query.${name}.x`);
    for (const s of q.chart.series ?? []) wanted.add(`query.${name}.series.${s.column}`);
  }
  const have = Object.keys(catalog.raw().en!.messages).filter((k) => k.startsWith('query.'));
  t.same(have.filter((k) => !wanted.has(k)), [], 'no stale keys');
  t.same([...wanted].filter((k) => !have.includes(k)), [], 'no missing keys');
  for (const locale of LOCALES) {
    for (const key of wanted) t.ok(catalog.format(locale, key).length > 0, `${locale} ${key}`);
  }
});

t.test('English matches the queries\' own texts (the catalog is where a translator starts)', async (t) => {
  for (const [name, q] of Object.entries(QUERIES)) {
    t.equal(catalog.format('en', `query.${name}.title`), q.title);
    t.equal(catalog.format('en', `query.${name}.description`), q.description);
  }
});

t.test('the page chrome: plurals per language, Arabic right to left', async (t) => {
  const values = { time: '12:00', zone: 'UTC' };
  t.match(catalog.format('en', 'page.updated', { ...values, count: 1 }), /1 chart ·/);
  t.match(catalog.format('en', 'page.updated', { ...values, count: 24 }), /24 charts/);
  t.match(catalog.format('es', 'page.updated', { ...values, count: 24 }), /24 gráficos/);
  t.match(catalog.format('ar', 'page.updated', { ...values, count: 2 }), /رسمان/, 'Arabic dual');
  t.match(catalog.format('ar', 'page.updated', { ...values, count: 24 }), /رسمًا/, 'Arabic "many"');
  t.match(catalog.format('ne', 'page.updated', { ...values, count: 3 }), /३ चार्टहरू/, 'Nepali plural with Devanagari digits');
  t.equal(catalog.dir('ar'), 'rtl');
  t.equal(catalog.dir('hi'), 'ltr');
});
