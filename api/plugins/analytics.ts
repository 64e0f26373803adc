/**
 * Analyst queries over HTTP (role analyst or admin) and the dashboard page that draws them. Queries run
 * against ClickHouse; without CLICKHOUSE_URL the routes answer 503. Titles, descriptions and chart labels
 * come in the language asked for (`?lang=`, else Accept-Language) from the dashboard catalog.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { QUERIES, checkParams } from '../../adapters/analytics/analyst-queries';
import { ApiError } from '../errors';
import { errorResponses } from '../schemas';
import { dashboardPage } from './dashboard-page';
import type { MessageCatalog } from '../../i18n/message-catalog';
import { pickLocale, shippedLocale, type Locale } from '../../i18n/locales';
import type { AnalyticsReader } from '../../adapters/analytics/analytics-reader';
import type { AccountStore } from '../../adapters/accounts/account-store';

const ChartSpecSchema = Type.Object({
  kind: Type.Union([Type.Literal('line'), Type.Literal('bar'), Type.Literal('table')]),
  x: Type.Optional(Type.Object({ column: Type.String(), time: Type.Boolean(), label: Type.String(), day: Type.Optional(Type.Boolean()), bucket: Type.Optional(Type.Integer()), step: Type.Optional(Type.Boolean()) })),
  series: Type.Optional(Type.Array(Type.Object({ column: Type.String(), label: Type.String(), unit: Type.Union([Type.Literal('count'), Type.Literal('coins'), Type.Literal('seconds'), Type.Literal('usd')]) }))),
  splitBy: Type.Optional(Type.String()),
  users: Type.Optional(Type.Array(Type.String())),
}, { description: 'how the dashboard draws the query: x column (time ones hold Unix seconds), series and their unit, split column, user-id columns' });

/** Display names of the user ids in the rows' user columns (unknown ids map to themselves). */
async function displayNames(accounts: AccountStore, rows: Record<string, unknown>[], columns: readonly string[]): Promise<Record<string, string>> {
  const ids = new Set<string>();
  for (const r of rows) for (const c of columns) if (typeof r[c] === 'string' && r[c]) ids.add(r[c] as string);
  const names: Record<string, string> = {};
  await Promise.all([...ids].map(async (id) => {
    names[id] = (await accounts.userById(id))?.displayName ?? id;
  }));
  return names;
}

/** A named query's texts in `locale` (the catalog's `query.<name>.*` keys; English where one is missing). */
function localized(messages: MessageCatalog, locale: Locale, name: string, q: (typeof QUERIES)[string]) {
  const say = (key: string, english: string) => (messages.has(`query.${name}.${key}`) ? messages.format(locale, `query.${name}.${key}`) : english);
  const chart = q.chart;
  return {
    name, title: say('title', q.title), description: say('description', q.description),
    chart: {
      ...chart,
      ...(chart.x ? { x: { ...chart.x, label: say('x', chart.x.label) } } : {}),
      ...(chart.series ? { series: chart.series.map((s) => ({ ...s, label: say(`series.${s.column}`, s.label) })) } : {}),
    } as Static<typeof ChartSpecSchema>,
  };
}

export const analyticsPlugin: FastifyPluginAsyncTypebox<{ reader: AnalyticsReader | null; accounts: AccountStore; messages: MessageCatalog }> = async (app, opts) => {
  const page = dashboardPage(opts.messages.raw());
  app.get('/dashboard', {
    schema: {
      tags: ['analytics'], summary: 'The analytics dashboard (sign in with an analyst token on the page)',
      response: { 200: { description: 'the dashboard page (HTML, strict CSP)', content: { 'text/html': { schema: { type: 'string' } } } } },
    },
  }, async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header('content-security-policy', page.csp);
    return page.html;
  });

  app.get('/v1/analytics', {
    config: { roles: ['analyst'] },
    schema: {
      tags: ['analytics'], summary: 'The named analyst queries (role analyst or admin), their texts in your language', security: [{ bearer: [] }],
      querystring: Type.Object({ lang: Type.Optional(Type.String({ pattern: '^[A-Za-z-]{2,12}$', description: 'en, ne, hi, es or ar; else Accept-Language decides' })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ locale: Type.String(), queries: Type.Array(Type.Object({ name: Type.String(), title: Type.String(), description: Type.String(), chart: ChartSpecSchema })) }), ...errorResponses(400, 401, 403) },
    },
  }, async (req, reply) => {
    const locale = shippedLocale(req.query.lang) ?? pickLocale(null, req.headers['accept-language']);
    reply.header('content-language', locale);
    return { locale, queries: Object.entries(QUERIES).map(([name, q]) => localized(opts.messages, locale, name, q)) };
  });

  app.get('/v1/analytics/:query', {
    config: { roles: ['analyst'] },
    schema: {
      tags: ['analytics'], summary: 'Run one named query over a time window (role analyst or admin)', security: [{ bearer: [] }],
      params: Type.Object({ query: Type.String({ pattern: '^[a-z_]{1,64}$' }) }),
      querystring: Type.Object({
        from: Type.String({ pattern: '^[0-9]{1,12}$' }), to: Type.String({ pattern: '^[0-9]{1,12}$' }),
        room: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          query: Type.String(),
          rows: Type.Array(Type.Record(Type.String(), Type.Unknown()), { description: 'one object per row; 64-bit integers arrive as strings (ClickHouse JSON)' }),
          names: Type.Record(Type.String(), Type.String(), { description: 'display name of every user id in the query\'s user columns' }),
        }),
        ...errorResponses(400, 401, 403, 404, 503),
      },
    },
  }, async (req) => {
    const name = req.params.query;
    const q = QUERIES[name];
    if (!q) throw new ApiError('HB_API_NOT_FOUND', `no query ${name}`);
    if (!opts.reader) throw new ApiError('HB_API_UNAVAILABLE', 'analytics needs ClickHouse (CLICKHOUSE_URL)');
    const s = req.query;
    let params;
    try {
      params = checkParams({ from: Number(s.from), to: Number(s.to), ...(s.room ? { room: s.room } : {}) });
    } catch (err) {
      throw new ApiError('HB_API_VALIDATION', (err as Error).message);
    }
    let rows: Record<string, unknown>[];
    try {
      rows = await opts.reader.rows(q.sql(params));
    } catch {
      throw new ApiError('HB_API_UNAVAILABLE', 'ClickHouse did not answer');
    }
    return { query: name, rows, names: await displayNames(opts.accounts, rows, q.chart.users ?? []) };
  });
};
