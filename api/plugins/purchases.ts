/**
 * Buying coins over HTTP: the coin packages with prices in the user's currency, starting a card payment
 * (Stripe PaymentIntent; coins follow the verified webhook), the purchase history, and the Stripe webhook.
 * The webhook is the one route that reads its body raw (a scoped parser): the signature covers the exact
 * bytes. It needs no session but a valid signature, is rate- and body-limited, and answers 2xx only once
 * the event's effect is durable.
 */
import type { CountryLookup } from '../../adapters/geo/country-lookup';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { CoinCatalog } from '../../economy/coin-packages';
import { chooseCurrency } from '../../economy/currencies';
import { PurchaseError, appAccountToken, type PurchaseService } from '../../economy/purchases';
import type { PaymentGateway } from '../../adapters/payments/payment-gateway';
import type { PurchaseRecord } from '../../adapters/purchases/purchase-store';
import { ApiError, type ApiErrorCode } from '../errors';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';
import { rawJsonBody } from '../raw-json-body';

// The shop currencies (economy/currencies.ts SHOP_CURRENCIES), spelled out so the types stay literal.
const Currency = Type.Union([Type.Literal('USD'), Type.Literal('EUR'), Type.Literal('NPR')], { description: 'ISO 4217 code' });
const PriceBody = Type.Object({
  amountMinor: Type.Integer({ description: 'in the currency\'s minor unit (cents, paisa)' }), currency: Currency,
  minorUnits: Type.Integer({ description: 'ISO 4217 digits after the decimal point' }), display: Type.String({ examples: ['NPR 134.00'] }),
  source: Type.Union([Type.Literal('catalog'), Type.Literal('fx')], { description: 'set in the catalog, or derived from USD with the dated FX rate' }),
});
const PurchaseBody = Type.Object({
  id: Type.String(), channel: Type.String(), packageId: Type.String(), coins: Type.Integer(), amountMinor: Type.Integer(), currency: Type.String(),
  status: Type.Union([Type.Literal('created'), Type.Literal('requires_action'), Type.Literal('credited'), Type.Literal('held'), Type.Literal('reversed'),
    Type.Literal('reinstated'), Type.Literal('failed'), Type.Literal('refused')], {
    description: 'created (waiting for payment), requires_action (3-D Secure: the client must complete it), credited, held (payment under review: coins set aside), reversed (refunded, disputed or revoked: coins clawed back), reinstated (dispute won), failed, refused (amount mismatch)',
  }),
  reason: Type.String(), createdAt: Type.Integer(), updatedAt: Type.Integer(),
});
type PurchaseView = Static<typeof PurchaseBody>;

const view = (p: PurchaseRecord): PurchaseView => ({
  id: p.id, channel: p.channel, packageId: p.packageId, coins: p.coins, amountMinor: p.amountMinor, currency: p.currency, status: p.status,
  reason: p.reason, createdAt: p.createdAt, updatedAt: p.updatedAt,
});

const CODES: Record<PurchaseError['code'], ApiErrorCode> = {
  OP_ID_REUSED: 'HB_API_OP_ID_REUSED', UNKNOWN_PACKAGE: 'HB_API_UNKNOWN_PACKAGE', CHANNEL_UNAVAILABLE: 'HB_API_PAYMENTS_UNAVAILABLE', PROVIDER_FAILED: 'HB_API_PAYMENT_PROVIDER',
  RECEIPT_INVALID: 'HB_API_RECEIPT_INVALID', RECEIPT_CLAIMED: 'HB_API_RECEIPT_CLAIMED', RETRY_LATER: 'HB_API_RETRY_LATER',
};

/** Runs a purchase step, turning its typed refusals into API errors. */
async function mapped<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof PurchaseError) throw new ApiError(CODES[err.code], err.message);
    throw err;
  }
}

export interface PurchasesPluginOptions {
  readonly catalog: CoinCatalog;
  readonly purchases: PurchaseService;
  readonly stripe: PaymentGateway | null;
  /** Purchases a client may start per minute. */
  readonly purchasesPerMinute: number;
  /** The country of a request's address: card purchases are refused where the catalog blocks them. */
  readonly geo?: CountryLookup | null;
  /** Webhook deliveries per minute per source address. */
  readonly webhookPerMinute: number;
  /** Every handled webhook's outcome, for metrics. */
  readonly onWebhookHandled: (provider: string, outcome: string) => void;
  /** A refused webhook (signature, timestamp, payload): counted and logged. */
  readonly onWebhookRefused: (provider: string, reason: string, ip: string) => void;
}

export const purchasesPlugin: FastifyPluginAsyncTypebox<PurchasesPluginOptions> = async (app, opts) => {
  app.get('/v1/coin-packages', {
    schema: {
      tags: ['purchases'], summary: 'Coin packages with prices in your currency',
      description: 'Currency: `currency` if the shop sells in it, else the `country`\'s (ISO 3166-1 alpha-2), else the Accept-Language region\'s, else USD (docs/money.md § Prices).',
      querystring: Type.Object({ currency: Type.Optional(Type.String({ pattern: '^[A-Za-z]{3}$' })), country: Type.Optional(Type.String({ pattern: '^[A-Za-z]{2}$' })) }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          currency: Currency, chosenBy: Type.Union([Type.Literal('explicit'), Type.Literal('country'), Type.Literal('locale'), Type.Literal('default')]),
          catalogVersion: Type.String(), fxDate: Type.String({ description: 'date of the FX rates derived prices use' }),
          packages: Type.Array(Type.Object({ id: Type.String(), coins: Type.Integer(), price: PriceBody })),
        }),
      },
    },
  }, async (req) => {
    const q = req.query;
    const { currency, by } = chooseCurrency({ ...(q.currency ? { explicit: q.currency } : {}), ...(q.country ? { country: q.country } : {}), acceptLanguage: req.headers['accept-language'] });
    return {
      currency, chosenBy: by, catalogVersion: opts.catalog.data.version, fxDate: opts.catalog.data.fx.date,
      packages: opts.catalog.packages.map((p) => ({ id: p.id, coins: p.coins, price: opts.catalog.price(p, currency) })),
    };
  });

  app.post('/v1/purchases', {
    config: { rateLimit: { max: opts.purchasesPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['purchases'], summary: 'Start buying a coin package by card (Stripe)', security: [{ bearer: [] }],
      description: 'Creates a PaymentIntent for the catalog price; confirm it on the client with `clientSecret` (Stripe.js or the mobile SDKs). `providerStatus` `requires_action` means 3-D Secure must be completed. Coins are credited when Stripe\'s verified `payment_intent.succeeded` webhook arrives, never from the client; poll GET /v1/purchases/{id} or the wallet.',
      body: Type.Object({
        package: Type.String({ pattern: '^[a-z0-9_]{1,40}$' }), currency: Type.Optional(Currency),
        opId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.-]{8,128}$', description: 'your operation id: a retry with it answers the same purchase and PaymentIntent' })),
      }, { additionalProperties: false }),
      response: { 201: Type.Object({ purchase: PurchaseBody, paymentIntent: Type.String({ description: 'the Stripe PaymentIntent id' }), clientSecret: Type.String(), providerStatus: Type.String(), replayed: Type.Boolean() }), ...errorResponses(401, 404, 409, 429, 451, 502, 503) },
    },
  }, async (req, reply) => {
    const claims = claimsOf(req);
    const country = opts.geo?.country(req.ip) ?? null;
    if (!opts.catalog.sellsIn(country)) throw new ApiError('HB_API_REGION_RESTRICTED', 'card purchases are not offered in your region', {}, { country });
    const currency = req.body.currency ?? chooseCurrency({ acceptLanguage: req.headers['accept-language'] }).currency;
    const started = await mapped(() => opts.purchases.startStripe(claims.sub, req.body.package, currency, req.body.opId));
    return reply.status(201).send({ purchase: view(started.purchase), paymentIntent: started.paymentIntent, clientSecret: started.clientSecret, providerStatus: started.providerStatus, replayed: started.replayed });
  });

  app.get('/v1/purchases', {
    schema: {
      tags: ['purchases'], summary: 'Your purchases, newest first (receipts with amounts and currency)', security: [{ bearer: [] }],
      querystring: Type.Object({
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1–100, default 20' })),
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,16}~pur_[0-9a-f]{32}$', description: 'the `next` cursor of the previous page' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ purchases: Type.Array(PurchaseBody), next: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(401) },
    },
  }, async (req) => {
    const claims = claimsOf(req);
    const limit = Number(req.query.limit ?? 20);
    const b = req.query.before;
    const before = b ? { createdAt: Number(b.slice(0, b.indexOf('~'))), id: b.slice(b.indexOf('~') + 1) } : undefined;
    const list = await opts.purchases.list(claims.sub, { limit, ...(before ? { before } : {}) });
    return { purchases: list.map(view), next: list.length === limit ? `${list.at(-1)!.createdAt}~${list.at(-1)!.id}` : null };
  });

  app.get('/v1/purchases/apple/account-token', {
    schema: {
      tags: ['purchases'], summary: 'The appAccountToken your iOS app sets on every coin purchase', security: [{ bearer: [] }],
      description: 'Pass it as `appAccountToken` when calling StoreKit\'s purchase(options:). A transaction carrying another account\'s token is refused; one without a token is credited to the first account that claims it.',
      response: { 200: Type.Object({ appAccountToken: Type.String({ format: 'uuid' }) }), ...errorResponses(401) },
    },
  }, async (req) => ({ appAccountToken: appAccountToken(claimsOf(req).sub) }));

  app.post('/v1/purchases/apple', {
    config: { rateLimit: { max: opts.purchasesPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['purchases'], summary: 'Credit an App Store purchase (StoreKit 2 signed transaction)', security: [{ bearer: [] }],
      description: 'Send `Transaction.jwsRepresentation` after a successful purchase, then finish the transaction. Verified offline against Apple\'s chain; each transaction id credits once (retries answer the same purchase). Refused: another chain, another bundle id or environment, a tampered payload, a product that is not a coin package, a revoked transaction, another account\'s token (400 HB_API_RECEIPT_INVALID); already credited to another account (409 HB_API_RECEIPT_CLAIMED).',
      body: Type.Object({ signedTransaction: Type.String({ minLength: 20, maxLength: 16_384 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ purchase: PurchaseBody }), ...errorResponses(401, 409, 429, 503) },
    },
  }, async (req) => {
    const claims = claimsOf(req);
    return { purchase: view(await mapped(() => opts.purchases.claimAppStore(claims.sub, req.body.signedTransaction))) };
  });

  app.post('/v1/purchases/google', {
    config: { rateLimit: { max: opts.purchasesPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['purchases'], summary: 'Credit a Google Play purchase (purchase token)', security: [{ bearer: [] }],
      description: 'Send the Purchase\'s productId and purchaseToken after Play Billing reports it purchased. The server looks the token up at Google, credits once per order id, then consumes it (do not consume on the device). Pending, cancelled, unknown, already-consumed tokens and another account\'s (obfuscatedAccountId) are refused (400 HB_API_RECEIPT_INVALID); an order already credited to another account answers 409.',
      body: Type.Object({ productId: Type.String({ pattern: '^[a-z0-9_.]{1,150}$' }), purchaseToken: Type.String({ minLength: 10, maxLength: 4096 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ purchase: PurchaseBody }), ...errorResponses(401, 409, 429, 502, 503) },
    },
  }, async (req) => {
    const claims = claimsOf(req);
    return { purchase: view(await mapped(() => opts.purchases.claimGooglePlay(claims.sub, req.body.productId, req.body.purchaseToken))) };
  });

  app.post('/v1/admin/purchases/google/sync-voided', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['purchases'], summary: 'Fetch voided Google Play purchases now and claw them back (admin; also runs every HALOBUZZ_GOOGLE_VOIDED_POLL_SEC)', security: [{ bearer: [] }],
      response: { 200: Type.Object({ voided: Type.Integer(), clawedBack: Type.Integer() }), ...errorResponses(401, 403, 502, 503) },
    },
  }, async () => mapped(() => opts.purchases.syncGoogleVoided()));

  app.post('/v1/webhooks/apple', {
    config: { rateLimit: { max: opts.webhookPerMinute, timeWindow: 60_000 } },
    schema: {
      tags: ['purchases'], summary: 'App Store Server Notifications V2 endpoint (signed payload; no session)',
      description: 'REFUND and REVOKE claw back the transaction\'s coins once (a debt if they were spent); other types are acknowledged. An unverifiable payload answers 400 HB_API_WEBHOOK_REFUSED.',
      body: Type.Object({ signedPayload: Type.String({ minLength: 20, maxLength: 65_536 }) }),
      response: { 200: Type.Object({ received: Type.Literal(true), outcome: Type.String() }), ...errorResponses(400, 429, 503) },
    },
  }, async (req) => {
    const outcome = await mapped(() => opts.purchases.handleAppStoreNotification(req.body.signedPayload)).catch((err: unknown) => {
      if (err instanceof ApiError && err.code === 'HB_API_RECEIPT_INVALID') {
        opts.onWebhookRefused('appstore', 'signature', req.ip);
        throw new ApiError('HB_API_WEBHOOK_REFUSED', err.message);
      }
      throw err;
    });
    opts.onWebhookHandled('appstore', outcome);
    return { received: true as const, outcome };
  });

  // The webhook: raw body in this scope only; everything else in the API stays JSON-parsed.
  await app.register(async (scope) => {
    rawJsonBody(scope);
    scope.post('/v1/webhooks/stripe', {
      config: { rateLimit: { max: opts.webhookPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['purchases'], summary: 'Stripe webhook endpoint (signed; no session)',
        description: 'Verifies `Stripe-Signature` over the raw body with the endpoint secret and refuses deliveries signed more than HALOBUZZ_WEBHOOK_TOLERANCE_SEC ago (replays). Handles payment_intent.succeeded / requires_action / payment_failed / canceled, review.opened / closed, radar.early_fraud_warning.created, charge.refunded, charge.dispute.created / closed; acknowledges others. Each event id is handled once; 2xx means its effect is durable.',
        response: {
          200: Type.Object({ received: Type.Literal(true), outcome: Type.String({ description: 'credited, held, released, clawed_back, reinstated, status, duplicate, ignored, refused' }) }),
          ...errorResponses(400, 429, 503),
        },
      },
    }, async (req) => {
      const stripe = opts.stripe;
      if (!stripe) throw new ApiError('HB_API_PAYMENTS_UNAVAILABLE', 'card payments are not configured (STRIPE_SECRET_KEY)');
      const raw = req.body as Buffer;
      const verdict = stripe.verifyWebhook(raw, req.headers['stripe-signature'] as string | undefined);
      if (!verdict.ok) {
        opts.onWebhookRefused('stripe', verdict.reason, req.ip);
        throw new ApiError('HB_API_WEBHOOK_REFUSED', `webhook refused: ${verdict.reason}`);
      }
      const outcome = await mapped(() => opts.purchases.handleStripe(verdict.event)).catch((err: unknown) => {
        opts.onWebhookHandled('stripe', err instanceof ApiError && err.code === 'HB_API_RETRY_LATER' ? 'retry' : 'error');
        throw err;
      });
      opts.onWebhookHandled('stripe', outcome);
      return { received: true as const, outcome };
    });
  });
};
