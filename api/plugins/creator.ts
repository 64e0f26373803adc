/**
 * The creator's side of the money over HTTP: earnings (per stream, day or gift, with the platform's share
 * and the payout value), a CSV statement, the Stripe Connect payout account, withdrawals; the Connect
 * webhook (raw body, its own secret); and the admin's oversight of payouts (a queue to approve or reject,
 * totals, and a page). docs/money.md § Payouts documents states and rules.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import { Earnings } from '../../economy/earnings';
import { PayoutError, type PayoutService } from '../../economy/payouts';
import type { ConnectGateway } from '../../adapters/payments/connect-gateway';
import type { Withdrawal } from '../../adapters/payouts/payout-store';
import type { AccountStore } from '../../adapters/accounts/account-store';
import { ApiError, type ApiErrorCode } from '../errors';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';
import { PAYOUTS_PAGE, PAYOUTS_PAGE_CSP } from './payouts-page';
import { rawJsonBody } from '../raw-json-body';

const Currency = Type.Union([Type.Literal('USD'), Type.Literal('EUR'), Type.Literal('NPR')]);
const WithdrawalBody = Type.Object({
  id: Type.String(), coins: Type.Integer(), currency: Type.String(), amountMinor: Type.Integer({ description: 'payout value in the currency\'s minor units at the dated rate' }),
  rateDate: Type.String(), status: Type.String({ description: 'requested, pending_approval, review, approved, transferred, paid, failed, reversed, rejected, refused' }),
  reason: Type.String(), createdAt: Type.Integer(), updatedAt: Type.Integer(),
});
const AccountBody = Type.Object({
  stripeAccount: Type.String(), detailsSubmitted: Type.Boolean(), payoutsEnabled: Type.Boolean(),
  requirementsDue: Type.Array(Type.String()), disabledReason: Type.String(), updatedAt: Type.Integer(),
});
const view = (w: Withdrawal): Static<typeof WithdrawalBody> => ({
  id: w.id, coins: w.coins, currency: w.currency, amountMinor: w.amountMinor, rateDate: w.rateDate, status: w.status, reason: w.reason, createdAt: w.createdAt, updatedAt: w.updatedAt,
});

const CODES: Record<PayoutError['code'], ApiErrorCode> = {
  OP_ID_REUSED: 'HB_API_OP_ID_REUSED', CHANNEL_UNAVAILABLE: 'HB_API_PAYMENTS_UNAVAILABLE', PAYOUTS_NOT_ENABLED: 'HB_API_PAYOUTS_NOT_ENABLED', WITHDRAWAL_LIMIT: 'HB_API_WITHDRAWAL_LIMIT',
  WITHDRAWAL_OPEN: 'HB_API_WITHDRAWAL_OPEN', NOT_WITHDRAWABLE: 'HB_API_NOT_WITHDRAWABLE', WITHDRAWAL_STATE: 'HB_API_WITHDRAWAL_STATE', NOT_FOUND: 'HB_API_NOT_FOUND',
  PROVIDER_FAILED: 'HB_API_PAYMENT_PROVIDER', RETRY_LATER: 'HB_API_RETRY_LATER',
};

async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PayoutError) throw new ApiError(CODES[err.code], err.message, {}, err.detail);
    throw err;
  }
}

const DAY = 86_400_000;
const Range = {
  from: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$', description: 'ms since the epoch; default 30 days ago' })),
  to: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}$', description: 'ms since the epoch; default now' })),
};

export interface CreatorPluginOptions {
  readonly payouts: PayoutService;
  readonly connect: ConnectGateway | null;
  readonly accounts: AccountStore;
  readonly webhookPerMinute: number;
  /** Payout-account and withdrawal requests a client may make per minute. */
  readonly requestsPerMinute: number;
  readonly onWebhookHandled: (provider: string, outcome: string) => void;
  readonly onWebhookRefused: (provider: string, reason: string, ip: string) => void;
}

export const creatorPlugin: FastifyPluginAsyncTypebox<CreatorPluginOptions> = async (app, opts) => {
  const p = opts.payouts;
  const range = (q: { from?: string; to?: string }) => {
    const to = q.to ? Number(q.to) : p.clock();
    return { from: q.from ? Number(q.from) : to - 30 * DAY, to };
  };

  app.get('/v1/creator/earnings', {
    schema: {
      tags: ['creator'], summary: 'What you earned from gifts: per stream, day or gift, with the platform share; pending (on hold) and available', security: [{ bearer: [] }],
      querystring: Type.Object({
        ...Range, group: Type.Optional(Type.Union([Type.Literal('stream'), Type.Literal('day'), Type.Literal('gift')])), currency: Type.Optional(Currency),
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })), offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          from: Type.Integer(), to: Type.Integer(), group: Type.String(),
          rows: Type.Array(Type.Object({ key: Type.String(), gifts: Type.Integer(), units: Type.Integer(), grossCoins: Type.Integer(), platformCoins: Type.Integer(), creatorCoins: Type.Integer(), payoutMinor: Type.Integer() })),
          totals: Type.Object({ gifts: Type.Integer(), grossCoins: Type.Integer(), platformCoins: Type.Integer(), creatorCoins: Type.Integer(), payoutMinor: Type.Integer() }),
          next: Type.Union([Type.Integer(), Type.Null()], { description: 'the offset of the next page' }),
          balance: Type.Object({ earnedCoins: Type.Integer(), pendingCoins: Type.Integer(), withdrawnCoins: Type.Integer(), availableCoins: Type.Integer(), availableMinor: Type.Integer() }),
          payout: Type.Object({ currency: Currency, rateDate: Type.String(), minorPerCoin: Type.Number(), holdDays: Type.Integer() }),
        }),
        ...errorResponses(401),
      },
    },
  }, async (req) => {
    const user = claimsOf(req).sub;
    const { from, to } = range(req.query);
    const group = req.query.group ?? 'day';
    const currency = req.query.currency ?? 'USD';
    const lines = await p.earnings.lines(user, from, to);
    const groups = Earnings.group(lines, group);
    const limit = Number(req.query.limit ?? 50);
    const offset = Number(req.query.offset ?? 0);
    const value = (coins: number) => p.policy.value(coins, currency).amountMinor;
    const balance = await p.earnings.balance(user, p.clock());
    const sum = (k: 'gifts' | 'grossCoins' | 'platformCoins' | 'creatorCoins') => groups.reduce((n, g) => n + g[k], 0);
    return {
      from, to, group,
      rows: groups.slice(offset, offset + limit).map((g) => ({ ...g, payoutMinor: value(g.creatorCoins) })),
      totals: { gifts: sum('gifts'), grossCoins: sum('grossCoins'), platformCoins: sum('platformCoins'), creatorCoins: sum('creatorCoins'), payoutMinor: value(sum('creatorCoins')) },
      next: offset + limit < groups.length ? offset + limit : null,
      balance: { earnedCoins: balance.earnedCoins, pendingCoins: balance.pendingCoins, withdrawnCoins: balance.withdrawnCoins, availableCoins: balance.availableCoins, availableMinor: value(balance.availableCoins) },
      payout: { currency, rateDate: p.policy.data.rates.date, minorPerCoin: p.policy.data.rates.perCoinMinor[currency], holdDays: p.policy.data.holdDays },
    };
  });

  app.get('/v1/creator/earnings/statement.csv', {
    schema: {
      tags: ['creator'], summary: 'Your earnings statement as CSV: one line per gift received', security: [{ bearer: [] }],
      querystring: Type.Object(Range, { additionalProperties: false }),
      response: { 200: { description: 'text/csv', content: { 'text/csv': { schema: { type: 'string' } } } }, ...errorResponses(401) },
    },
  }, async (req, reply) => {
    const user = claimsOf(req).sub;
    const { from, to } = range(req.query);
    const lines = await p.earnings.lines(user, from, to);
    const q = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    const body = ['time_utc,op_id,room,stream,gift,sender,units,gross_coins,platform_coins,creator_coins',
      ...lines.map((l) => [new Date(l.ts).toISOString(), l.opId, l.room, l.stream, l.giftId, l.sender, l.units, l.grossCoins, l.platformCoins, l.creatorCoins].map(q).join(','))].join('\n');
    reply.header('content-type', 'text/csv; charset=utf-8');
    reply.header('content-disposition', `attachment; filename="earnings-${new Date(from).toISOString().slice(0, 10)}-${new Date(to).toISOString().slice(0, 10)}.csv"`);
    return `${body}\n`;
  });

  app.post('/v1/creator/payout-account', {
    config: { rateLimit: { max: opts.requestsPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['creator'], summary: 'Create your Stripe Connect (Express) payout account once, and get an onboarding link', security: [{ bearer: [] }],
      description: 'Open `onboardingUrl` to give Stripe the details it needs (identity, bank). The account\'s state arrives by Stripe\'s verified `account.updated` webhook; withdrawals need `payoutsEnabled`.',
      response: { 200: Type.Object({ account: AccountBody, onboardingUrl: Type.String(), expiresAt: Type.Integer() }), ...errorResponses(401, 429, 502, 503) },
    },
  }, async (req) => {
    const user = claimsOf(req).sub;
    const email = (await opts.accounts.userById(user))?.email ?? null;
    const r = await mapped(() => p.openAccount(user, email));
    const { user: _u, ...account } = r.account;
    return { account: { ...account, requirementsDue: [...account.requirementsDue] }, onboardingUrl: r.onboardingUrl, expiresAt: r.expiresAt };
  });

  app.get('/v1/creator/payout-account', {
    schema: { tags: ['creator'], summary: 'Your payout account\'s state (from Stripe\'s webhooks)', security: [{ bearer: [] }], response: { 200: Type.Object({ account: Type.Union([AccountBody, Type.Null()]) }), ...errorResponses(401) } },
  }, async (req) => {
    const a = await p.account(claimsOf(req).sub);
    if (!a) return { account: null };
    const { user: _u, ...account } = a;
    return { account: { ...account, requirementsDue: [...account.requirementsDue] } };
  });

  app.post('/v1/creator/withdrawals', {
    config: { rateLimit: { max: opts.requestsPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['creator'], summary: 'Withdraw earned coins to your bank', security: [{ bearer: [] }],
      description: 'Needs payouts enabled; within the minimum, maximum and daily and 30-day caps; at most one open withdrawal; no more than `availableCoins` (earned from gifts, past the hold). The coins leave your balance at once; above the approval amount (or with risk signals) a person decides first. States and webhooks: docs/money.md § Payouts.',
      body: Type.Object({
        coins: Type.Integer({ minimum: 1 }), currency: Currency,
        opId: Type.String({ pattern: '^[A-Za-z0-9_:.-]{8,128}$', description: 'your operation id: a retry with it answers the same withdrawal (replayed: true) and moves nothing more' }),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ withdrawal: WithdrawalBody, replayed: Type.Boolean() }), ...errorResponses(401, 409, 429, 503) },
    },
  }, async (req, reply) => {
    const r = await mapped(() => p.withdraw(claimsOf(req).sub, req.body));
    return reply.status(201).send({ withdrawal: view(r.withdrawal), replayed: r.replayed });
  });

  app.get('/v1/creator/withdrawals', {
    schema: { tags: ['creator'], summary: 'Your withdrawals, newest first', security: [{ bearer: [] }], response: { 200: Type.Object({ withdrawals: Type.Array(WithdrawalBody) }), ...errorResponses(401) } },
  }, async (req) => ({ withdrawals: (await p.withdrawals(claimsOf(req).sub, 100)).map(view) }));

  app.get('/v1/admin/withdrawals', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['admin'], summary: 'Withdrawals by status (admin)', security: [{ bearer: [] }],
      querystring: Type.Object({ status: Type.Optional(Type.String({ pattern: '^[a-z_]{3,20}(,[a-z_]{3,20})*$' })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ withdrawals: Type.Array(Type.Intersect([WithdrawalBody, Type.Object({ user: Type.String(), decidedBy: Type.String() })])) }), ...errorResponses(401, 403) },
    },
  }, async (req) => {
    const statuses = (req.query.status ?? 'pending_approval,review').split(',') as Withdrawal['status'][];
    return { withdrawals: (await p.list(statuses)).map((w) => ({ ...view(w), user: w.user, decidedBy: w.decidedBy })) };
  });

  app.post('/v1/admin/withdrawals/:id/approve', {
    config: { roles: ['admin'] },
    schema: { tags: ['admin'], summary: 'Approve a withdrawal waiting for approval or review (admin)', security: [{ bearer: [] }], params: Type.Object({ id: Type.String({ pattern: '^wd_[0-9a-f]{32}$' }) }), response: { 200: Type.Object({ withdrawal: WithdrawalBody }), ...errorResponses(401, 403, 404, 409) } },
  }, async (req) => ({ withdrawal: view(await mapped(() => p.approve(req.params.id, claimsOf(req).sub))) }));

  app.post('/v1/admin/withdrawals/:id/reject', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['admin'], summary: 'Reject a withdrawal waiting for approval or review; the coins go back (admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Type.String({ pattern: '^wd_[0-9a-f]{32}$' }) }), body: Type.Object({ reason: Type.String({ minLength: 3, maxLength: 500 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ withdrawal: WithdrawalBody }), ...errorResponses(401, 403, 404, 409) },
    },
  }, async (req) => ({ withdrawal: view(await mapped(() => p.reject(req.params.id, claimsOf(req).sub, req.body.reason))) }));

  app.get('/v1/admin/payouts/summary', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['admin'], summary: 'Payout totals: owed to creators, waiting, in flight, failed, paid (admin)', security: [{ bearer: [] }],
      response: {
        200: Type.Object({
          owedCoins: Type.Integer({ description: 'earned by creators with a payout account and not yet withdrawn' }),
          pendingApproval: Type.Object({ count: Type.Integer(), coins: Type.Integer() }), review: Type.Object({ count: Type.Integer(), coins: Type.Integer() }),
          inFlight: Type.Object({ count: Type.Integer(), coins: Type.Integer() }), failed: Type.Object({ count: Type.Integer(), coins: Type.Integer() }), paid: Type.Object({ count: Type.Integer(), coins: Type.Integer() }),
        }),
        ...errorResponses(401, 403),
      },
    },
  }, async () => ({ owedCoins: await p.owed(), ...(await p.summary()) }));

  app.get('/admin/payouts', {
    schema: { tags: ['admin'], summary: 'The payouts admin page (sign in with an admin token on the page)', response: { 200: { description: 'HTML, strict CSP', content: { 'text/html': { schema: { type: 'string' } } } } } },
  }, async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header('content-security-policy', PAYOUTS_PAGE_CSP);
    return PAYOUTS_PAGE;
  });

  await app.register(async (scope) => {
    rawJsonBody(scope);
    scope.post('/v1/webhooks/stripe-connect', {
      config: { rateLimit: { max: opts.webhookPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['creator'], summary: 'Stripe Connect webhook endpoint (signed with STRIPE_CONNECT_WEBHOOK_SECRET; no session)',
        description: 'account.updated keeps each payout account\'s state; payout.paid settles a withdrawal; payout.failed and transfer.reversed return its coins. Each event id once; 2xx once the effect is durable.',
        response: { 200: Type.Object({ received: Type.Literal(true), outcome: Type.String() }), ...errorResponses(400, 429, 503) },
      },
    }, async (req) => {
      if (!opts.connect) throw new ApiError('HB_API_PAYMENTS_UNAVAILABLE', 'payouts are not configured (STRIPE_CONNECT_WEBHOOK_SECRET)');
      const verdict = opts.connect.verifyWebhook(req.body as Buffer, req.headers['stripe-signature'] as string | undefined);
      if (!verdict.ok) {
        opts.onWebhookRefused('stripe-connect', verdict.reason, req.ip);
        throw new ApiError('HB_API_WEBHOOK_REFUSED', `webhook refused: ${verdict.reason}`);
      }
      const outcome = await mapped(() => p.handleConnect(verdict.event));
      opts.onWebhookHandled('stripe-connect', outcome);
      return { received: true as const, outcome };
    });
  });
};
