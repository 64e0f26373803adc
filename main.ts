/**
 * Process entry point. Engines come from the composition root (engines.ts). HALOBUZZ_ROLE picks what runs here: the socket core and the
 * HTTP API together (all, the default), the socket core alone (realtime), or the API alone (api, which
 * reaches the socket nodes through Redis). Shutdown is ordered on SIGTERM/SIGINT: stop the API, stop
 * accepting sockets, drain the actors, close clients with "going away, reconnect".
 */
import { createLogger, logSettings } from './common/logger';
import { ConfigError, loadConfig, type Config } from './config/config';
import { TransportError } from './core/transport/select-transport';
import { RealtimeServer } from './core/server';
import { CoreMetrics } from './core/metrics';
import { openAnalyticsSink, openApiEngines, openLedgerFor, openRealtimeEngines, openRedisBridge } from './engines';
import { CoinCatalog } from './economy/coin-packages';
import { PurchaseService } from './economy/purchases';
import { PayoutService } from './economy/payouts';
import { PayoutPolicy } from './economy/payout-policy';
import type { AnalyticsSink } from './adapters/analytics/analytics-sink';
import { Revocations } from './core/auth/revocations';
import { buildApi } from './api/app';
import { AuthService } from './api/auth-service';
import { AgoraTokenIssuer } from './adapters/media/media-token-issuer';
import { RedisBridge } from './adapters/bridge/redis-bridge';
import type { RealtimeBridge } from './adapters/bridge/realtime-bridge';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { GiftCatalog } from './economy/gift-catalog';
import { GameConfig } from './economy/games/game-config';
import { openPlayStore, playStoreSettings } from './adapters/games/open-play-store';
import { Notifier } from './notify/notifier';
import { notificationFrame } from './protocol/codec';
import { Templates } from './notify/templates';
import { LiveFanout } from './notify/live-fanout';
import { PushDispatcher } from './notify/push-dispatcher';
import { OutboxRelay } from './notify/outbox-relay';
import { withSecurityNotices } from './notify/security-notices';
import { formatMinor, type ShopCurrency } from './economy/currencies';
import { pushSenders } from './notify/push-senders';
import type { Ledger } from './adapters/ledger/ledger';
import type { Logger } from 'pino';
import { LocalBridge } from './adapters/bridge/local-bridge';
import { ModerationService } from './moderation/moderation-service';
import { ChatFilter } from './moderation/chat-filter';
import { ReportRules } from './moderation/report-rules';
import { LoginThrottle } from './api/login-throttle';
import { AnalyticsOptOuts } from './privacy/analytics-opt-outs';
import { startDataRights } from './privacy/data-rights';
import { ConsentService } from './privacy/consent-service';
import { PrivacyDocuments } from './privacy/privacy-documents';
import { MessageCatalog } from './i18n/message-catalog';
import { sharedCountryLookup } from './adapters/geo/country-lookup';

type Stop = () => Promise<unknown>;

async function startApi(config: Config, log: Logger, deps: {
  bridge: RealtimeBridge; revocations: Revocations; ledger: Ledger; catalog: GiftCatalog; metrics: RealtimeServer['metrics'];
  realtimeReady: () => boolean; redis: RedisBridge | null;
  /** Where purchase, refund and dispute events go (the socket node's sink, or the API's own). */
  analyticsSink: AnalyticsSink | null;
  /** This process's list of users who declined analytics (its sink's consent check). */
  analyticsOptOuts: AnalyticsOptOuts;
}): Promise<Stop> {
  const engines = await openApiEngines(config);
  const { accounts, rooms, owners, analytics } = engines;
  const coinCatalog = CoinCatalog.fromFile(config.payments.coinPackagesFile);
  const notifier = new Notifier({
    store: engines.notifications, templates: Templates.fromDir(config.notificationTemplatesDir), now: Date.now,
    // Users online also get it on their sockets, wherever they are connected (best effort: the list has it).
    online: (user, n) => void deps.bridge.deliver(user, notificationFrame(n)).catch((err) => log.warn({ err }, 'could not deliver a notification to a socket')),
    localeOf: async (user) => (await accounts.userById(user))?.locale ?? null,
  });
  const security = log.child({ component: 'security' });
  /** Money refusals and decisions: logged, and kept in the accounts' security log. */
  const games = config.games.enabled
    ? { store: await openPlayStore(playStoreSettings(config)), limits: GameConfig.fromFile(config.games.file).data.play }
    : null;
  const securityLog = (e: { type: string; userId: string | null; detail: string }) => {
    security.warn(e, e.type);
    accounts.logEvent({ ts: Date.now(), userId: e.userId, type: e.type, ip: '', detail: e.detail }).catch((err) => log.error({ err }, 'security log write failed'));
    // Stakes soon after a reversed (refunded, disputed, revoked) purchase are flagged by the games' anomaly checks.
    if (e.type === 'purchase_reversed' && e.userId && games) games.store.noteDispute(e.userId, Date.now()).catch((err) => log.error({ err }, 'play store write failed'));
  };
  const purchases = new PurchaseService({
    ledger: deps.ledger, store: engines.purchases, catalog: coinCatalog, stripe: engines.stripe, appStore: engines.appStore, googlePlay: engines.googlePlay,
    analytics: (e) => deps.analyticsSink?.record({ ...e, node: config.nodeId }),
    security: securityLog,
  });
  const revokeSessions = (sids: readonly string[]) => {
    for (const sid of sids) deps.revocations.add(sid);
    // Signing out (or a revoked sign-in) removes the push devices that session registered.
    engines.notifications.removeSessions(sids).catch((err) => log.error({ err }, 'could not remove the devices of revoked sessions'));
    deps.bridge.revokeSessions(sids).catch((err) => log.error({ err }, 'could not deliver a session revocation'));
  };
  const moderation = new ModerationService({
    store: engines.moderation, accounts, rooms, realtime: owners.realtimeStore, bridge: deps.bridge, revoke: revokeSessions,
    filter: ChatFilter.fromFile(config.moderationFile), rules: ReportRules.fromFile(config.moderationFile), now: Date.now,
    analytics: (e) => deps.analyticsSink?.record({ ...e, id: randomUUID(), ts: Date.now(), node: config.nodeId }),
    count: (outcome) => deps.metrics.reports.labels(outcome).inc(),
  });
  // Every socket node this API reaches learns the shadow mutes in force (a node started later gets them from its own API).
  await moderation.loadShadowMutes();
  const spreadOptOut = (user: string, declined: boolean) => {
    deps.analyticsOptOuts.set(user, declined);
    deps.bridge.analyticsOptOut(user, declined).catch((err) => log.error({ err }, 'could not spread an analytics opt-out'));
  };
  const consents = new ConsentService({
    store: engines.consents, documents: PrivacyDocuments.fromFile(config.privacyFile), now: Date.now,
    analyticsOptOut: (user, declined) => spreadOptOut(user, declined),
  });
  // This process and every socket node it reaches drop the events of users who declined analytics.
  await consents.loadOptOuts();
  // Sessions revoked while their access tokens may still be valid survive a restart.
  const horizon = Date.now() - config.api.accessTtlSec * 1000 - 60_000;
  for (const sid of await accounts.revokedSince(horizon)) deps.revocations.add(sid);
  const auth = new AuthService(withSecurityNotices(accounts, notifier, (err) => log.error({ err }, 'could not notify a security event')), {
    secret: config.auth.jwtSecret, issuer: config.auth.jwtIssuer, audience: config.auth.jwtAudience,
    accessTtlSec: config.api.accessTtlSec, refreshTtlSec: config.api.refreshTtlSec,
  }, revokeSessions, (sid) => deps.revocations.has(sid), new LoginThrottle(), moderation);
  const rights = await startDataRights(config, log, deps.metrics, {
    engines, ledger: deps.ledger, games: games?.store ?? null, revoke: revokeSessions, now: Date.now,
    // A closed account records nothing; a restored one goes back to what its consents say.
    analyticsPaused: (user, paused) => {
      if (paused) spreadOptOut(user, true);
      else consents.view(user).then((v) => spreadOptOut(user, !v.choices.analytics.granted), (err) => log.error({ err }, 'could not read consents'));
    },
  });
  // The payout clock: real time, moved forward only by the test-only debug route (holds without sleeping).
  let clockOffset = 0;
  const now = () => Date.now() + clockOffset;
  const crashPoint = config.payouts.crashPoint;
  const payouts = new PayoutService({
    ledger: deps.ledger, store: engines.payouts, policy: PayoutPolicy.fromFile(config.payouts.policyFile), connect: engines.connect,
    hadReversal: (user, since) => engines.purchases.hadReversal(user, since),
    signInAddresses: async (user) => [...new Set((await accounts.sessionsOf(user)).map((s) => s.ip).filter(Boolean))],
    security: securityLog,
    onPaid: (w) => void notifier.notify({ id: `payout:${w.id}`, user: w.user, kind: 'payout', data: { amount: formatMinor(w.amountMinor, w.currency as ShopCurrency), withdrawal: w.id } })
      .catch((err) => log.error({ err }, 'could not notify a payout')),
    returnUrl: config.payouts.returnUrl, now,
    ...(crashPoint ? { crashPoint: (step: string) => {
      if (step === crashPoint) {
        log.fatal({ step }, 'HALOBUZZ_DEBUG_CRASH_POINT reached: killing the process');
        process.kill(process.pid, 'SIGKILL');
      }
    } } : {}),
  });
  const resume = () => payouts.recover().then((r) => {
    if (r.resumed > 0) log.warn(r, 'payouts: resumed withdrawals left mid-way');
  }, (err) => {
    deps.metrics.backgroundErrors.labels('payouts_recover').inc();
    log.error({ err }, 'payouts: resuming withdrawals failed');
  });
  if (engines.connect) await resume();
  const payoutsTimer = engines.connect ? setInterval(() => void resume(), 60_000) : null;
  payoutsTimer?.unref();
  const fanout = new LiveFanout(engines.notifications, engines.follows, notifier, {
    node: config.nodeId, chunk: 500, pollMs: 1000, leaseMs: 15_000,
    ...(crashPoint === 'fanout:after_chunk' ? { afterChunk: () => {
      log.fatal({ step: crashPoint }, 'HALOBUZZ_DEBUG_CRASH_POINT reached: killing the process');
      process.kill(process.pid, 'SIGKILL');
    } } : {}),
    onError: (err) => {
      deps.metrics.backgroundErrors.labels('live_fanout').inc();
      log.error({ err }, 'live fan-out failed; retried on the next poll');
    },
  });

  fanout.start();
  const pushes = new PushDispatcher(engines.notifications, pushSenders(config), {
    batch: 200, pollMs: 500, maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 10 * 60_000, perDeviceMinute: 20, now: Date.now, random: Math.random,
    onOutcome: (p, o) => {
      deps.metrics.pushes.labels(p.platform, o.kind).inc();
      if (o.kind === 'sent' || o.kind === 'gave_up' || o.kind === 'failed' || o.kind === 'dead_token') {
        deps.analyticsSink?.record({ id: `push:${p.id}:${o.kind}`, ts: Date.now(), node: config.nodeId, type: o.kind === 'sent' ? 'push_sent' : 'push_failed', user: p.user, platform: p.platform, notification: p.kind });
      }
    },
    onError: (err) => {
      deps.metrics.backgroundErrors.labels('push_dispatch').inc();
      log.error({ err }, 'push dispatch failed; retried on the next poll');
    },
  });
  pushes.start();
  const relay = new OutboxRelay(owners.realtimeStore, notifier, {
    batch: 200, pollMs: 250,
    // The actors know ids; the texts want names.
    enrich: async (_kind, data) => ({
      ...data,
      ...(typeof data.from === 'string' ? { fromName: (await accounts.userById(data.from))?.displayName ?? data.from } : {}),
      ...(typeof data.giftId === 'string' ? { giftName: deps.catalog.get(data.giftId)?.name ?? data.giftId } : {}),
    }),
    // Filter flags and ban evasion go to the review queue; room moderators' actions to the audit log.
    moderation: (n) => (n.kind === 'mod_flag' ? moderation.flagged(n) : moderation.roomAction(n)),
    wentLive: async (n) => {
      const room = String(n.data.room);
      const [creator, listing] = await Promise.all([accounts.userById(n.user), rooms.get(room)]);
      await fanout.wentLive({ id: n.id, room, creator: n.user, creatorName: creator?.displayName ?? n.user, roomTitle: listing?.title ?? '', at: n.at });
    },
    onError: (err) => {
      deps.metrics.backgroundErrors.labels('notify_relay').inc();
      log.error({ err }, 'notification relay failed; retried on the next poll');
    },
  });
  relay.start();
  const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
  const api = await buildApi({
    auth, ledger: deps.ledger, catalog: deps.catalog, metrics: deps.metrics, rooms, accounts, analytics,
    realtime: deps.bridge, owners, coinCatalog, purchases, stripe: engines.stripe, payouts, connect: engines.connect, games, follows: engines.follows,
    moderation: { service: moderation, store: engines.moderation },
    privacy: { consents, rights: { ...rights, auth } },
    errorMessages: MessageCatalog.fromDir(join(config.localesDir, 'errors')),
    dashboardMessages: MessageCatalog.fromDir(join(config.localesDir, 'dashboard')),
    geo: sharedCountryLookup(),
    notifications: {
      store: engines.notifications, templates: notifier.templates,
      onOpened: (e) => deps.analyticsSink?.record({ id: `opened:${e.id}`, ts: Date.now(), node: config.nodeId, type: 'push_opened', user: e.user, notification: e.kind, ...(e.platform ? { platform: e.platform } : {}) }),
    },
    ...(config.debugEndpoints ? { debugClock: (advanceMs: number) => (clockOffset += advanceMs) } : {}),
    ready: async () => {
      if (!deps.realtimeReady()) return false;
      try {
        await within(deps.ledger.balance('user:__readiness__'));
        if (deps.redis) await within(deps.redis.client.ping());
        return true;
      } catch {
        return false;
      }
    },
    media: config.api.agoraAppId && config.api.agoraCertificate ? new AgoraTokenIssuer(config.api.agoraAppId, config.api.agoraCertificate, config.api.mediaTokenTtlSec) : null,
    settings: {
      bodyLimitBytes: config.api.bodyLimitBytes, corsOrigins: config.api.corsOrigins, rateLimitPerMinute: config.api.rateLimitPerMinute,
      trustedProxies: config.api.trustedProxies, metrics: config.api.metricsOnApiPort,
      ...(deps.redis ? { rateLimitRedis: deps.redis.client } : {}),
    },
    log: log.child({ component: 'api' }),
  });
  // Voided Google Play purchases come by polling (Google keeps 30 days of them); each claws back once.
  const google = config.payments.google;
  const voidedTimer = google ? setInterval(() => {
    purchases.syncGoogleVoided().then((r) => {
      if (r.clawedBack > 0) log.warn(r, 'google play: voided purchases clawed back');
    }, (err) => {
      deps.metrics.backgroundErrors.labels('google_voided').inc();
      log.error({ err }, 'google play: voided purchases sync failed');
    });
  }, google.voidedPollSec * 1000) : null;
  voidedTimer?.unref();
  await api.listen({ host: config.host, port: config.api.port });
  const port = (api.server.address() as { port: number }).port;
  log.info({ event: 'api-listening', port }, `HTTP API on http://${config.host}:${port} (OpenAPI: http://${config.host}:${port}/docs)`);
  return async () => {
    if (voidedTimer) clearInterval(voidedTimer);
    if (payoutsTimer) clearInterval(payoutsTimer);
    await api.close();
    await rights.stop();
    await fanout.stop();
    await pushes.stop();
    await relay.stop();
    await games?.store.close();
    await engines.close();
  };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.code}: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
  const logging = logSettings(config.logLevel);
  const log = createLogger(logging, { node: config.nodeId, role: config.role });
  if (config.auth.usingDevSecret) log.warn('HALOBUZZ_JWT_SECRET is not set: using the development secret (never do this in production)');
  const redis = await openRedisBridge(config);
  const stops: Stop[] = [];
  // Who declined analytics: this process's sink drops their events (filled by the API, kept current by the bridge).
  const analyticsOptOuts = new AnalyticsOptOuts(!PrivacyDocuments.fromFile(config.privacyFile).data.defaults.analytics);

  if (config.role === 'api') {
    // The API alone: its own ledger handle and catalog; socket nodes are reached through Redis.
    const ledger = await openLedgerFor(config);
    const metrics = new CoreMetrics();
    const analyticsSink = await openAnalyticsSink(config, log, metrics, analyticsOptOuts, `outbox-${config.nodeId}-api`);
    stops.push(await startApi(config, log, {
      bridge: redis!, revocations: new Revocations(config.api.accessTtlSec * 1000 + 60_000), ledger,
      catalog: GiftCatalog.fromFile(config.economy.giftCatalogFile), metrics, realtimeReady: () => true, redis, analyticsSink, analyticsOptOuts,
    }));
    stops.push(() => ledger.close());
    if (analyticsSink) stops.push(async () => {
      await Promise.race([analyticsSink.flush(), new Promise((r) => setTimeout(r, config.shutdownGraceMs).unref())]);
      await analyticsSink.close();
    });
  } else {
    const metrics = new CoreMetrics();
    const engines = await openRealtimeEngines(config, log, metrics, analyticsOptOuts);
    let server: RealtimeServer;
    try {
      server = new RealtimeServer(config, log, engines, { logging, metrics });
    } catch (err) {
      if (err instanceof TransportError) {
        log.fatal({ code: err.code }, err.message);
        console.error(`${err.code}: ${err.message}`);
        process.exit(78);
      }
      throw err;
    }
    const port = await server.start();
    log.info({ event: 'listening', host: config.host, port, transport: server.transport, node: process.version, workers: config.actors.workers, dataDir: config.dataDir },
      `HaloBuzz realtime listening on ws://${config.host}:${port}/ws with the ${server.transport} transport on Node ${process.version} (metrics: http://${config.host}:${port}/metrics)`);
    if (redis) {
      await redis.serve(config.nodeId, server.node(), config.actors.presenceIntervalMs, (job, err) => {
        server.metrics.backgroundErrors.labels(job).inc();
        log.error({ err, job }, 'realtime bridge job failed');
      }, config.publicUrl);
    }
    if (config.role === 'all') {
      const node = server.node();
      // With Redis the bridge reaches every socket node (this one included); without it, only this one.
      const local = new LocalBridge(node, config.publicUrl);
      stops.push(await startApi(config, log, {
        bridge: redis ?? local, revocations: server.revocations, ledger: server.ledgerHandle, catalog: server.catalog,
        metrics: server.metrics, realtimeReady: () => server.ready, redis, analyticsSink: engines.analytics, analyticsOptOuts,
      }));
    }
    stops.push(() => server.shutdown());
  }
  if (redis) stops.push(() => redis.close());

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    stops.reduce((p, s) => p.then(s), Promise.resolve() as Promise<unknown>).then(() => {
      log.info('shutdown complete');
      process.exit(0);
    }, (err) => {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
