/**
 * The HTTP API: a thin Fastify app for everything that is not realtime. One plugin per feature, JSON
 * schemas on every route (TypeBox), OpenAPI at /docs, every error as `{ error: { code, message } }` from
 * one registry (errors.ts). It runs in the realtime server's process by default.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Logger } from 'pino';
import type { RedisClient } from '../adapters/redis/open-redis';
import { ApiError, ApiErrors, type ApiErrorCode } from './errors';
import { ErrorBody } from './schemas';
import { registerAuth } from './auth-hook';
import type { AuthService } from './auth-service';
import type { Ledger } from '../adapters/ledger/ledger';
import type { GiftCatalog } from '../economy/gift-catalog';
import type { CoreMetrics } from '../core/metrics';
import { healthPlugin } from './plugins/health';
import { authPlugin } from './plugins/auth';
import { walletPlugin } from './plugins/wallet';
import { roomsPlugin } from './plugins/rooms';
import type { RoomDirectory } from '../adapters/rooms/room-directory';
import type { AccountStore } from '../adapters/accounts/account-store';
import { mePlugin } from './plugins/me';
import { adminPlugin } from './plugins/admin';
import { analyticsPlugin } from './plugins/analytics';
import { purchasesPlugin } from './plugins/purchases';
import { moderationPlugin, type ModerationPluginOptions } from './plugins/moderation';
import { privacyPlugin, type PrivacyPluginOptions } from './plugins/privacy';
import { MessageCatalog } from '../i18n/message-catalog';
import { join } from 'node:path';
import type { CountryLookup } from '../adapters/geo/country-lookup';
import { pickLocale, type Locale } from '../i18n/locales';
import { gamesPlugin, type GamesPluginOptions } from './plugins/games';
import { socialPlugin } from './plugins/social';
import { notificationsPlugin, type NotificationsPluginOptions } from './plugins/notifications';
import type { FollowStore } from '../adapters/social/follow-store';
import { creatorPlugin } from './plugins/creator';
import type { PayoutService } from '../economy/payouts';
import type { ConnectGateway } from '../adapters/payments/connect-gateway';
import type { CoinCatalog } from '../economy/coin-packages';
import type { PurchaseService } from '../economy/purchases';
import type { PaymentGateway } from '../adapters/payments/payment-gateway';
import type { AnalyticsReader } from '../adapters/analytics/analytics-reader';
import type { RealtimeBridge } from '../adapters/bridge/realtime-bridge';
import type { MediaTokenIssuer } from '../adapters/media/media-token-issuer';

export interface ApiSettings {
  readonly bodyLimitBytes: number;
  /** Allowed browser origins; empty means no CORS headers at all (mobile clients need none). */
  readonly corsOrigins: readonly string[];
  /** Requests per minute per IP, all routes; sign-in routes allow a tenth of it. */
  readonly rateLimitPerMinute: number;
  /** When set, rate-limit counters live in Redis, so the limits hold across every API node. */
  readonly rateLimitRedis?: RedisClient;
  /** Proxies whose X-Forwarded-For is believed (IPs/CIDRs); empty: none, `req.ip` is the peer address. */
  readonly trustedProxies?: readonly string[];
  /** Serve /metrics here too (default off: the socket port serves it). */
  readonly metrics?: boolean;
}

export interface ApiDeps {
  readonly auth: AuthService;
  readonly ledger: Ledger;
  readonly catalog: GiftCatalog;
  readonly metrics: CoreMetrics;
  /** True when every configured engine answers and the realtime side is up. */
  readonly ready: () => Promise<boolean>;
  readonly rooms: RoomDirectory;
  readonly accounts: AccountStore;
  /** Read access to analytics (ClickHouse); null when not configured. */
  readonly analytics?: AnalyticsReader | null;
  /** Agora RTC tokens; null when no App ID and certificate are configured. */
  readonly media: MediaTokenIssuer | null;
  readonly realtime: RealtimeBridge;
  /** Records a room's owner where the room actors read it (RoomOwnerRecorder). */
  readonly owners: { record(room: string, owner: string): Promise<void> };
  readonly settings: ApiSettings;
  readonly log?: Logger;
  /** The coin shop: packages, purchases and the payment webhooks. */
  readonly coinCatalog: CoinCatalog;
  readonly purchases: PurchaseService;
  readonly stripe: PaymentGateway | null;
  /** Creator payouts: earnings, payout accounts, withdrawals, the Connect webhook, admin oversight. */
  readonly payouts: PayoutService;
  readonly connect: ConnectGateway | null;
  /** The follow graph (public profiles, followers, following). */
  readonly follows?: FollowStore;
  /** In-app notifications, settings and devices. */
  readonly notifications?: NotificationsPluginOptions;
  /** Games: the ledger's round proofs are always served; the play store when games are on. */
  readonly games?: GamesPluginOptions['play'];
  /** Reports, the review queue, platform actions and the audit log. */
  readonly moderation?: ModerationPluginOptions;
  /** Consents (privacy). */
  readonly privacy?: PrivacyPluginOptions;
  /** Error messages in every shipped language (config/locales/errors); without it errors are English. */
  readonly errorMessages?: MessageCatalog;
  /** The dashboard's texts in every language (config/locales/dashboard); the shipped files when absent. */
  readonly dashboardMessages?: MessageCatalog;
  /** The country of a request's address (region-restricted rooms, the media token's area hint). */
  readonly geo?: CountryLookup | null;
  /** Test-only (HALOBUZZ_DEBUG_ENDPOINTS): moves the payout clock forward; returns the new offset. */
  readonly debugClock?: (advanceMs: number) => number;
}

/** The URL with every query value replaced, for logs. */
export function redactedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  return url.slice(0, q + 1) + url.slice(q + 1).split('&').map((pair) => `${pair.split('=')[0]}=REDACTED`).join('&');
}

function send(code: ApiErrorCode, message?: string, detail?: unknown) {
  return { error: { code, message: message ?? ApiErrors[code].message, ...(detail === undefined ? {} : { detail }) } };
}

/**
 * An error's message in the request's language (docs/i18n.md): the code never changes. A message the
 * handler made more specific than its code's stays as written in English; in another language the
 * translated message for the code is sent and the English one is kept as `detail.reason`.
 */
function localized(errors: MessageCatalog | null, locale: Locale, code: ApiErrorCode, message: string | undefined, detail: unknown, headers: Record<string, string>) {
  if (!errors || !errors.has(code)) return send(code, message, detail);
  const specific = message !== undefined && message !== ApiErrors[code].message;
  if (specific && locale === 'en') return send(code, message, detail);
  const retryAfter = Number(headers['retry-after'] ?? 0);
  const text = errors.format(locale, code, { minutes: Math.ceil(retryAfter / 60) });
  const merged = specific ? { ...(detail && typeof detail === 'object' ? detail : {}), reason: message } : detail;
  return send(code, text, merged);
}

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const proxies = deps.settings.trustedProxies ?? [];
  const app: FastifyInstance = Fastify({
    ...(deps.log ? { loggerInstance: deps.log as unknown as FastifyBaseLogger } : {}),
    bodyLimit: deps.settings.bodyLimitBytes,
    trustProxy: proxies.length > 0 ? [...proxies] : false,
    // Access logs belong to the ingress; we log errors and security events ourselves, and each request at
    // debug level with its query values redacted (a `?access_token=` must never reach a log).
    logController: new LogController({ disableRequestLogging: true }),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.debug({ method: req.method, path: redactedUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  // Only JSON bodies: Fastify's built-in text/plain parser would turn a JSON body sent as text/plain into
  // a string that then fails validation (400) instead of the documented 415.
  app.removeContentTypeParser('text/plain');
  // Every route declares in OpenAPI every status it can answer (test: "every status a route returns").
  app.addHook('onRoute', (route) => {
    if (!route.schema || (route.schema as { hide?: boolean }).hide) return;
    const schema = route.schema as { response?: Record<string | number, unknown>; body?: unknown; params?: unknown; querystring?: unknown; security?: unknown[] };
    const response = (schema.response ??= {});
    const add = (status: number) => {
      response[status] ??= ErrorBody;
    };
    if (schema.body || schema.params || schema.querystring) add(400);
    // Any method that may carry a body is parsed (and may be refused) whether or not the route reads it.
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (schema.body || methods.some((m) => m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS')) {
      add(413);
      add(415);
    }
    if (schema.security && schema.security.length > 0) add(401);
    add(429);
    add(500);
  });
  const errors = deps.errorMessages ?? null;
  /** The user's saved locale (cached a minute), for error messages. */
  const savedLocales = new Map<string, { locale: string | null; at: number }>();
  const localeOf = async (request: FastifyRequest): Promise<Locale> => {
    let saved: string | null = null;
    const user = request.claims?.sub;
    if (user && errors) {
      const cached = savedLocales.get(user);
      if (cached && Date.now() - cached.at < 60_000) saved = cached.locale;
      else {
        saved = (await deps.accounts.userById(user).catch(() => null))?.locale ?? null;
        if (savedLocales.size > 10_000) savedLocales.clear();
        savedLocales.set(user, { locale: saved, at: Date.now() });
      }
    }
    return pickLocale(saved, request.headers['accept-language']);
  };
  app.setErrorHandler(async (err: FastifyError | ApiError, request, reply) => {
    const locale = await localeOf(request);
    if (errors) reply.header('content-language', locale);
    const say = (code: ApiErrorCode, message?: string, detail?: unknown, headers: Record<string, string> = {}) => localized(errors, locale, code, message, detail, headers);
    // Every error answer is counted here, by its code, where it is decided.
    if (err instanceof ApiError) {
      deps.metrics.apiError(err.code);
      for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
      return reply.status(err.status).send(say(err.code, err.message, err.detail, err.headers));
    }
    const e = err as FastifyError;
    if (e.validation) {
      deps.metrics.apiError('HB_API_VALIDATION');
      return reply.status(400).send(say('HB_API_VALIDATION', `${e.validationContext ?? 'request'} ${e.validation[0]?.instancePath ?? ''} ${e.validation[0]?.message ?? ''}`.replace(/\s+/g, ' ').trim()));
    }
    const byFastifyCode: Record<string, ApiErrorCode> = {
      FST_ERR_CTP_INVALID_JSON_BODY: 'HB_API_BAD_JSON',
      FST_ERR_CTP_EMPTY_JSON_BODY: 'HB_API_BAD_JSON',
      FST_ERR_CTP_BODY_TOO_LARGE: 'HB_API_BODY_TOO_LARGE',
      FST_ERR_CTP_INVALID_MEDIA_TYPE: 'HB_API_UNSUPPORTED_MEDIA',
    };
    const mapped = byFastifyCode[e.code] ?? (e.statusCode === 429 ? 'HB_API_RATE_LIMITED' : e instanceof SyntaxError ? 'HB_API_BAD_JSON' : undefined);
    if (mapped) {
      deps.metrics.apiError(mapped);
      return reply.status(ApiErrors[mapped].status).send(say(mapped));
    }
    request.log.error({ err }, 'unhandled API error');
    deps.metrics.apiError('HB_API_INTERNAL');
    return reply.status(500).send(say('HB_API_INTERNAL'));
  });
  app.setNotFoundHandler(async (request, reply) => {
    deps.metrics.apiError('HB_API_NOT_FOUND');
    const locale = await localeOf(request);
    if (errors) reply.header('content-language', locale);
    return reply.status(404).send(localized(errors, locale, 'HB_API_NOT_FOUND', undefined, undefined, {}));
  });

  // A strict default CSP on every response (JSON needs none of it); the dashboard and /docs set their own.
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
  });
  // API answers are per user and often secret (tokens, MFA secrets, backup codes): never cache them.
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/v1/')) reply.header('cache-control', 'no-store');
    return payload;
  });
  if (deps.settings.corsOrigins.length > 0) {
    await app.register(cors, {
      origin: [...deps.settings.corsOrigins], credentials: false,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], allowedHeaders: ['authorization', 'content-type'], maxAge: 600,
    });
  }
  await app.register(rateLimit, {
    max: deps.settings.rateLimitPerMinute,
    timeWindow: 60_000,
    ...(deps.settings.rateLimitRedis ? { redis: deps.settings.rateLimitRedis, nameSpace: 'halobuzz:ratelimit:', skipOnError: false } : {}),
    errorResponseBuilder: (_req, ctx) => ({ statusCode: 429, ...send('HB_API_RATE_LIMITED', `too many requests; retry in ${Math.ceil(ctx.ttl / 1000)} s`) }),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'HaloBuzz API', version: '1.0.0', description: 'Everything that is not realtime. Errors: { error: { code, message } }; codes in docs/errors.md.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  registerAuth(app, deps.auth);
  await app.register(healthPlugin, { metrics: deps.settings.metrics ? deps.metrics : null, ready: deps.ready });
  // Sign-in, and everything else that checks a password, gets a tenth of the general rate limit.
  const signInPerMinute = Math.max(5, Math.floor(deps.settings.rateLimitPerMinute / 10));
  await app.register(authPlugin, { prefix: '/v1/auth', auth: deps.auth, signInPerMinute });
  await app.register(walletPlugin, { prefix: '/v1', ledger: deps.ledger, catalog: deps.catalog });
  await app.register(roomsPlugin, {
    prefix: '/v1/rooms', directory: deps.rooms, realtime: deps.realtime, owners: deps.owners, accounts: deps.accounts, media: deps.media, geo: deps.geo ?? null,
  });
  await app.register(mePlugin, { prefix: '/v1/me', auth: deps.auth, accounts: deps.accounts, ...(deps.follows ? { follows: deps.follows } : {}) });
  await app.register(adminPlugin, { prefix: '/v1/admin', accounts: deps.accounts });
  await app.register(analyticsPlugin, { reader: deps.analytics ?? null, accounts: deps.accounts, messages: deps.dashboardMessages ?? MessageCatalog.fromDir(join(__dirname, '..', '..', 'config', 'locales', 'dashboard')) });
  // Every provider webhook's outcome is counted; a refused one is also logged and written to the security log.
  const webhookReports = {
    webhookPerMinute: Math.max(600, deps.settings.rateLimitPerMinute),
    onWebhookHandled: (provider: string, outcome: string) => deps.metrics.webhooks.labels(provider, outcome).inc(),
    onWebhookRefused: (provider: string, reason: string, ip: string) => {
      deps.metrics.webhooks.labels(provider, `refused_${reason}`).inc();
      deps.log?.warn({ provider, reason, ip }, 'webhook refused');
      deps.accounts.logEvent({ ts: Date.now(), userId: null, type: 'webhook_refused', ip, detail: `${provider}: ${reason}` }).catch(() => undefined);
    },
  };
  await app.register(creatorPlugin, {
    payouts: deps.payouts, connect: deps.connect, accounts: deps.accounts,
    requestsPerMinute: Math.max(30, Math.floor(deps.settings.rateLimitPerMinute / 20)),
    ...webhookReports,
  });
  if (deps.debugClock) {
    const advance = deps.debugClock;
    app.post('/debug/clock', { schema: { hide: true } }, async (req) => ({ offsetMs: advance(Number((req.body as { advanceMs?: number } | undefined)?.advanceMs ?? 0)) }));
  }
  await app.register(gamesPlugin, { ledger: deps.ledger, play: deps.games ?? null });
  if (deps.notifications) {
    const n = deps.notifications;
    await app.register(notificationsPlugin, { store: n.store, templates: n.templates, ...(n.onOpened ? { onOpened: n.onOpened } : {}) });
  }
  if (deps.follows) {
    await app.register(socialPlugin, {
      follows: deps.follows, accounts: deps.accounts, rooms: deps.rooms,
      viewer: (header) => (header ? deps.auth.authenticate(header).then((c) => c.sub, () => null) : Promise.resolve(null)),
    });
  }
  if (deps.moderation) await app.register(moderationPlugin, deps.moderation);
  if (deps.privacy) await app.register(privacyPlugin, { ...deps.privacy, signInPerMinute });
  await app.register(purchasesPlugin, {
    catalog: deps.coinCatalog, purchases: deps.purchases, stripe: deps.stripe, geo: deps.geo ?? null,
    purchasesPerMinute: Math.max(30, Math.floor(deps.settings.rateLimitPerMinute / 20)),
    ...webhookReports,
  });
  return app;
}
