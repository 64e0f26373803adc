/** The gift catalog, and the signed-in user's coin balance and ledger history (newest first, paged). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Ledger } from '../../adapters/ledger/ledger';
import { userAccount } from '../../adapters/ledger/ledger';
import type { GiftCatalog } from '../../economy/gift-catalog';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';

export const walletPlugin: FastifyPluginAsyncTypebox<{ ledger: Ledger; catalog: GiftCatalog }> = async (app, opts) => {
  app.get('/gifts', {
    schema: {
      tags: ['wallet'], summary: 'The gift catalog (prices in coins)',
      response: { 200: Type.Object({ version: Type.Integer(), gifts: Type.Array(Type.Object({ id: Type.String(), name: Type.String(), price: Type.Integer(), tier: Type.Integer() })) }) },
    },
  }, async () => ({ version: opts.catalog.data.version, gifts: [...opts.catalog.data.gifts] }));

  app.get('/wallet', {
    schema: {
      tags: ['wallet'], summary: 'Coin balance, and debt after a reversed purchase (docs/money.md § Debt)', security: [{ bearer: [] }],
      response: { 200: Type.Object({ balance: Type.Integer({ minimum: 0, description: 'coins you can spend' }), debt: Type.Integer({ minimum: 0, description: 'coins owed; spending is blocked while above 0' }) }), ...errorResponses(401) },
    },
  }, async (req) => {
    const claims = claimsOf(req);
    const balance = await opts.ledger.balance(userAccount(claims.sub));
    return { balance: Math.max(0, balance), debt: Math.max(0, -balance) };
  });

  app.get('/wallet/history', {
    schema: {
      tags: ['wallet'], summary: 'Ledger entries touching this wallet, newest first', security: [{ bearer: [] }],
      querystring: Type.Object({
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1–100, default 20' })),
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}~[A-Za-z0-9_:.-]{8,128}$', description: 'the `next` cursor of the previous page' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          entries: Type.Array(Type.Object({ opId: Type.String(), kind: Type.String(), ts: Type.Integer(), delta: Type.Integer(), meta: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])) })),
          next: Type.Union([Type.String(), Type.Null()]),
        }),
        ...errorResponses(400, 401),
      },
    },
  }, async (req) => {
    const claims = claimsOf(req);
    const q = req.query;
    const limit = Number(q.limit ?? 20);
    const account = userAccount(claims.sub);
    const cursor = q.before ? { ts: Number(q.before.slice(0, q.before.indexOf('~'))), opId: q.before.slice(q.before.indexOf('~') + 1) } : undefined;
    const entries = await opts.ledger.history(account, { limit, ...(cursor ? { before: cursor } : {}) });
    return {
      entries: entries.map((e) => ({ opId: e.opId, kind: e.kind, ts: e.ts, delta: e.postings.filter((p) => p.account === account).reduce((n, p) => n + p.delta, 0), meta: e.meta })),
      next: entries.length === limit ? `${entries.at(-1)!.ts}~${entries.at(-1)!.opId}` : null,
    };
  });
};
