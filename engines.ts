/**
 * The composition root: the one place that turns the frozen configuration into engines behind their
 * ports. The realtime server is given its ledger, analytics sink and routing (local workers, or the
 * cluster's bus and registry); the API its account store, room directory, owner recorder and analytics
 * reader; the actor workers get the settings to open their own store and ledger connections (a handle
 * cannot cross threads). Nothing else in the server chooses an engine.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config/config';
import type { CoreMetrics } from './core/metrics';
import type { Ledger } from './adapters/ledger/ledger';
import { ledgerEngineName, openLedger, type LedgerSettings } from './adapters/ledger/open-ledger';
import type { StoreSettings } from './adapters/store/open-realtime-store';
import { realtimeStoreSettings } from './adapters/store/open-realtime-store';
import type { AnalyticsSink } from './adapters/analytics/analytics-sink';
import type { BatchingOptions, BatchingSink } from './adapters/analytics/batching-sink';
import { EventOutbox } from './adapters/analytics/event-outbox';
import { ClickHouseSink } from './adapters/analytics/clickhouse-sink';
import { NdjsonSink } from './adapters/analytics/ndjson-sink';
import { ClickHouseReader } from './adapters/analytics/clickhouse-reader';
import type { AnalyticsReader } from './adapters/analytics/analytics-reader';
import { RedisNodeRegistry } from './adapters/redis/redis-node-registry';
import type { NodeRegistry } from './adapters/registry/node-registry';
import { KafkaBus } from './adapters/bus/kafka-bus';
import { InProcessBus } from './adapters/bus/in-process-bus';
import { InMemoryNodeRegistry } from './adapters/registry/in-memory-node-registry';
import type { EventBus } from './adapters/bus/event-bus';
import { openAccountStore } from './adapters/accounts/open-account-store';
import type { AccountStore } from './adapters/accounts/account-store';
import { SqliteRoomDirectory } from './adapters/rooms/room-directory-sqlite';
import { MongoRoomDirectory } from './adapters/rooms/room-directory-mongo';
import type { RoomDirectory } from './adapters/rooms/room-directory';
import { RoomOwnerRecorder } from './adapters/store/room-owner-recorder';
import { RedisBridge } from './adapters/bridge/redis-bridge';
import type { PurchaseStore } from './adapters/purchases/purchase-store';
import { SqlitePurchaseStore } from './adapters/purchases/purchase-store-sqlite';
import { MongoPurchaseStore } from './adapters/purchases/purchase-store-mongo';
import type { PaymentGateway } from './adapters/payments/payment-gateway';
import { StripeGateway } from './adapters/payments/stripe-gateway';
import { AppStoreVerifier } from './adapters/payments/app-store-verifier';
import { GooglePlayVerifier, type GooglePlaySettings } from './adapters/payments/google-play-verifier';
import { readFileSync } from 'node:fs';
import type { PayoutStore } from './adapters/payouts/payout-store';
import { followStoreSettings, openFollowStore } from './adapters/social/open-follow-store';
import type { FollowStore } from './adapters/social/follow-store';
import { SqliteNotificationStore } from './adapters/notifications/notification-store-sqlite';
import { MongoNotificationStore } from './adapters/notifications/notification-store-mongo';
import type { NotificationStore } from './adapters/notifications/notification-store';
import type { ModerationStore } from './adapters/moderation/moderation-store';
import { ConsentSink } from './adapters/analytics/consent-sink';
import type { AnalyticsOptOuts } from './privacy/analytics-opt-outs';
import type { ConsentStore } from './adapters/privacy/consent-store';
import { SqliteConsentStore } from './adapters/privacy/consent-store-sqlite';
import { MongoConsentStore } from './adapters/privacy/consent-store-mongo';
import { SqliteModerationStore } from './adapters/moderation/moderation-store-sqlite';
import { MongoModerationStore } from './adapters/moderation/moderation-store-mongo';
import { SqlitePayoutStore } from './adapters/payouts/payout-store-sqlite';
import { MongoPayoutStore } from './adapters/payouts/payout-store-mongo';
import { StripeConnectGateway, type ConnectGateway } from './adapters/payments/connect-gateway';

/** What a socket node runs on. */
export interface RealtimeEngines {
  /** The main thread's ledger handle (crash recovery, debug routes, the in-process API). */
  readonly ledger: Ledger;
  readonly ledgerEngine: string;
  /** Where the actor workers open their own connections. */
  readonly workerLedger: LedgerSettings;
  readonly workerStore: StoreSettings;
  /** Where product events go: ClickHouse, NDJSON files, or nowhere (behind the consent check). */
  readonly analytics: AnalyticsSink | null;
  /** Who declined analytics (the sink drops their events); the realtime bridge keeps it current. */
  readonly analyticsOptOuts: AnalyticsOptOuts;
  /**
   * Routing through a log: the cluster (KAFKA_BROKERS: Kafka and the Redis registry), or one node through
   * the in-process bus (HALOBUZZ_ONE_NODE_ROUTING=log); null: commands go straight to the local workers.
   */
  readonly cluster: ClusterEngines | null;
}

export interface ClusterEngines {
  readonly registry: NodeRegistry;
  connectBus(clientId: string): Promise<EventBus>;
  readonly topicPrefix: string;
  readonly partitions: number;
  readonly nodePartitions: number;
  readonly nodeTtlMs: number;
}

function ledgerSettingsOf(config: Config): LedgerSettings {
  return { mongodbUrl: config.engines.mongodbUrl, dataDir: config.dataDir, leaseMs: config.economy.ledgerLeaseMs };
}

/** The ledger (MongoDB when configured, else the embedded SQLite file); configured means it must open. */
export async function openLedgerFor(config: Config): Promise<Ledger> {
  const settings = ledgerSettingsOf(config);
  try {
    return await openLedger(settings);
  } catch (err) {
    throw new Error(`cannot open the ${ledgerEngineName(settings)} ledger (${settings.mongodbUrl ?? config.dataDir}): ${(err as Error).message}`);
  }
}

/** The Redis realtime bridge when REDIS_URL is set (it must answer: no silent fallback to one node). */
export async function openRedisBridge(config: Config): Promise<RedisBridge | null> {
  if (!config.engines.redisUrl) return null;
  try {
    return await RedisBridge.connect(config.engines.redisUrl);
  } catch (err) {
    throw new Error(`REDIS_URL is set but Redis does not answer (${config.engines.redisUrl}): ${(err as Error).message}`);
  }
}

export async function openRealtimeEngines(config: Config, log: Logger, metrics: CoreMetrics, analyticsOptOuts: AnalyticsOptOuts): Promise<RealtimeEngines> {
  const workerLedger = ledgerSettingsOf(config);
  const ledgerEngine = ledgerEngineName(workerLedger);
  const ledger = await openLedgerFor(config);
  const analytics = await openAnalyticsSink(config, log, metrics, analyticsOptOuts);
  const c = config.cluster;
  let cluster: ClusterEngines | null = null;
  if (c) {
    cluster = {
      registry: await RedisNodeRegistry.connect(config.engines.redisUrl!, c.topicPrefix, c.nodeTtlMs),
      connectBus: (clientId: string) => KafkaBus.connect({
        brokers: c.brokers, clientId, replicationFactor: c.replicationFactor, sessionTimeoutMs: c.sessionTimeoutMs,
        onLog: (level, msg, extra) => log[level]({ component: 'kafka', ...extra }, msg),
        onConsumerReplaced: () => metrics.cluster.labels('consumers_replaced').inc(),
        onLag: (topic, partition, lag) => {
          if (lag === null) metrics.kafkaLag.remove(topic, String(partition));
          else metrics.kafkaLag.labels(topic, String(partition)).set(lag);
        },
      }),
      topicPrefix: c.topicPrefix, partitions: c.partitions, nodePartitions: c.nodePartitions, nodeTtlMs: c.nodeTtlMs,
    };
  } else if (config.oneNodeRouting === 'log') {
    const bus = new InProcessBus();
    cluster = { registry: new InMemoryNodeRegistry(10_000), connectBus: async () => bus, topicPrefix: 'halobuzz', partitions: 12, nodePartitions: 1, nodeTtlMs: 10_000 };
  }
  return { ledger, ledgerEngine, workerLedger, workerStore: realtimeStoreSettings(config), analytics, analyticsOptOuts, cluster };
}

/**
 * The analytics sink the configuration asks for (null when off), behind the consent check: events of users
 * in `optOuts` never reach its outbox. `outboxName` keeps two processes of one node apart.
 */
export async function openAnalyticsSink(config: Config, log: Logger, metrics: CoreMetrics, optOuts: AnalyticsOptOuts, outboxName = `outbox-${config.nodeId}`): Promise<AnalyticsSink | null> {
  const e = config.engines;
  if (!e.clickhouseUrl && e.embeddedAnalytics === 'off') return null;
  let sink: BatchingSink | null = null;
  const options: BatchingOptions = {
    maxQueue: e.analyticsQueueMax, batchSize: 5000, flushIntervalMs: 1000, minBackoffMs: 500, maxBackoffMs: 30_000,
    heartbeatMs: e.analyticsHeartbeatMs,
    onOutcome: (outcome, n, error) => {
      metrics.analytics.labels(outcome).inc(n);
      metrics.analyticsQueued.set(sink?.stats().queued ?? 0);
      if (outcome === 'failed') log.warn({ err: error, events: n }, 'analytics delivery failed; will retry');
    },
  };
  // One outbox per node: what it holds survives restarts and crashes and is shipped after the next start.
  const outbox = EventOutbox.open(join(config.dataDir, 'analytics', `${outboxName}.sqlite`), e.analyticsQueueMax);
  try {
    if (e.clickhouseUrl) {
      try {
        sink = await ClickHouseSink.connect(e.clickhouseUrl, outbox, options, e.clickhouseDatabase);
      } catch (err) {
        throw new Error(`CLICKHOUSE_URL is set but ClickHouse does not answer (${e.clickhouseUrl}): ${(err as Error).message}`);
      }
    } else {
      sink = new NdjsonSink(join(config.dataDir, 'analytics'), outbox, options);
    }
  } catch (err) {
    outbox.close();
    throw err;
  }
  const closed = sink.recoverInterrupted();
  if (closed.length > 0) log.warn({ intervals: closed.length, waiting: sink.stats().queued }, 'analytics: closed the connections and room visits a crash left open');
  metrics.analyticsQueued.set(sink.stats().queued);
  return new ConsentSink(sink, (user) => optOuts.has(user));
}

/** What the HTTP API runs on, besides what it shares with the socket node (ledger, bridge). */
export interface ApiEngines {
  /** Accounts, sessions, MFA, blocks, the security log: MongoDB when MONGODB_URL is set, else data/accounts.sqlite. */
  readonly accounts: AccountStore;
  /** Receipts of coin purchases and the provider events handled: MongoDB when MONGODB_URL is set, else data/purchases.sqlite. */
  readonly purchases: PurchaseStore;
  /** Card payments (Stripe); null when not configured. */
  readonly stripe: PaymentGateway | null;
  /** App Store signed-transaction verification; null when not configured. */
  readonly appStore: AppStoreVerifier | null;
  /** Google Play purchase lookups; null when not configured. */
  readonly googlePlay: GooglePlayVerifier | null;
  /** Creators' payout accounts and withdrawals: MongoDB when MONGODB_URL is set, else data/payouts.sqlite. */
  readonly payouts: PayoutStore;
  /** Stripe Connect (payouts); null unless STRIPE_SECRET_KEY and STRIPE_CONNECT_WEBHOOK_SECRET are set. */
  readonly connect: ConnectGateway | null;
  /** Live rooms for discovery: MongoDB when MONGODB_URL is set, else data/rooms.sqlite. */
  readonly rooms: RoomDirectory;
  /** The follow graph: MongoDB when MONGODB_URL is set, else data/social.sqlite. */
  readonly follows: FollowStore;
  /** In-app notifications, settings, devices, pending pushes and fan-out jobs: MongoDB when MONGODB_URL is set, else data/notifications.sqlite. */
  readonly notifications: NotificationStore;
  /** Reports, audit log, suspensions, shadow mutes, devices: MongoDB when MONGODB_URL is set, else data/moderation.sqlite. */
  readonly moderation: ModerationStore;
  /** Consent records: MongoDB when MONGODB_URL is set, else data/privacy.sqlite. */
  readonly consents: ConsentStore;
  readonly owners: RoomOwnerRecorder;
  readonly analytics: AnalyticsReader | null;
  close(): Promise<void>;
}

export async function openApiEngines(config: Config): Promise<ApiEngines> {
  const mongo = config.engines.mongodbUrl;
  const accounts = await openAccountStore({ mongodbUrl: mongo, dataDir: config.dataDir });
  const rooms = mongo ? await MongoRoomDirectory.connect(mongo) : new SqliteRoomDirectory(join(config.dataDir, 'rooms.sqlite'));
  const follows = await openFollowStore(followStoreSettings(config));
  const notifications = config.engines.mongodbUrl ? await MongoNotificationStore.connect(config.engines.mongodbUrl) : new SqliteNotificationStore(join(config.dataDir, 'notifications.sqlite'));
  const moderation = config.engines.mongodbUrl ? await MongoModerationStore.connect(config.engines.mongodbUrl) : new SqliteModerationStore(join(config.dataDir, 'moderation.sqlite'));
  const consents = config.engines.mongodbUrl ? await MongoConsentStore.connect(config.engines.mongodbUrl) : new SqliteConsentStore(join(config.dataDir, 'privacy.sqlite'));
  const owners = await RoomOwnerRecorder.open(realtimeStoreSettings(config));
  const analytics = config.engines.clickhouseUrl ? new ClickHouseReader(config.engines.clickhouseUrl, config.engines.clickhouseDatabase) : null;
  const purchases = mongo ? await MongoPurchaseStore.connect(mongo) : new SqlitePurchaseStore(join(config.dataDir, 'purchases.sqlite'));
  const p = config.payments;
  const stripe = p.stripeSecretKey && p.stripeWebhookSecret
    ? new StripeGateway({ secretKey: p.stripeSecretKey, webhookSecret: p.stripeWebhookSecret, apiUrl: p.stripeApiUrl, toleranceSec: p.webhookToleranceSec })
    : null;
  const a = p.apple;
  let appStore: AppStoreVerifier | null = null;
  if (a) {
    let roots: Buffer[];
    try {
      roots = a.rootCertFiles.map((f) => readFileSync(f));
    } catch (err) {
      throw new Error(`HALOBUZZ_APPLE_ROOT_CERTS: cannot read a root certificate: ${(err as Error).message}`);
    }
    appStore = new AppStoreVerifier({ bundleId: a.bundleId, environment: a.environment, rootCertificates: roots, onlineChecks: a.onlineChecks, ...(a.appAppleId !== null ? { appAppleId: a.appAppleId } : {}) });
  }
  const g = p.google;
  let googlePlay: GooglePlayVerifier | null = null;
  if (g) {
    let credentials: GooglePlaySettings['credentials'];
    try {
      credentials = JSON.parse(readFileSync(g.credentialsFile, 'utf8')) as GooglePlaySettings['credentials'];
    } catch (err) {
      throw new Error(`HALOBUZZ_GOOGLE_CREDENTIALS: cannot read the service account key: ${(err as Error).message}`);
    }
    googlePlay = new GooglePlayVerifier({ packageName: g.packageName, credentials, apiUrl: g.apiUrl });
  }
  const payouts = mongo ? await MongoPayoutStore.connect(mongo) : new SqlitePayoutStore(join(config.dataDir, 'payouts.sqlite'));
  const connect = p.stripeSecretKey && config.payouts.connectWebhookSecret
    ? new StripeConnectGateway(p.stripeSecretKey, config.payouts.connectWebhookSecret, p.stripeApiUrl, p.webhookToleranceSec)
    : null;
  return {
    accounts, rooms, follows, notifications, moderation, consents, owners, analytics, purchases, stripe, appStore, googlePlay, payouts, connect,
    close: async () => {
      await Promise.all([accounts.close(), rooms.close(), follows.close(), notifications.close(), moderation.close(), consents.close(), owners.close(), analytics?.close(), purchases.close(), payouts.close()]);
    },
  };
}
