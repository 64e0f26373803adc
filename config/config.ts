/**
 * The one place that reads the environment. `loadConfig` validates every variable once, names the bad
 * one when it fails, and returns a frozen object that the rest of the server receives as a parameter.
 * Unset engine URLs mean the embedded defaults; a set URL means the real engine (never a silent fallback).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

export interface LimitsConfig {
  /** Largest accepted WebSocket frame in bytes; larger frames close the socket (uWS, code 1009). */
  readonly maxFrameBytes: number;
  /** Bytes a socket may have queued before it counts as a slow consumer and is closed (4009). */
  readonly maxBackpressureBytes: number;
  readonly maxRoomsPerConnection: number;
  readonly maxChatChars: number;
  readonly maxDmChars: number;
  /** Token buckets: sustained per second and burst. */
  readonly chatPerSecond: number;
  readonly chatBurst: number;
  readonly joinPerSecond: number;
  readonly joinBurst: number;
  readonly dmPerSecond: number;
  readonly dmBurst: number;
  readonly giftPerSecond: number;
  readonly giftBurst: number;
  readonly framesPerSecond: number;
  readonly framesBurst: number;
  /** Per-user chat bucket shared by all of one user's connections on this node. */
  readonly userChatPerSecond: number;
  readonly userChatBurst: number;
  /** Protocol errors tolerated within `abuseWindowMs` before the connection is closed (4008). */
  readonly abuseErrorLimit: number;
  readonly abuseWindowMs: number;
  readonly helloTimeoutMs: number;
  readonly idleTimeoutSec: number;
}

export interface ActorConfig {
  readonly workers: number;
  readonly shards: number;
  readonly mailboxCapacity: number;
  /** Messages an actor handles per turn before the worker yields to its event loop. */
  readonly throughputPerTurn: number;
  readonly roomHistory: number;
  readonly presenceIntervalMs: number;
  /** Worker restarts allowed per `restartWindowMs` before the supervisor gives up and exits the process. */
  readonly restartBudget: number;
  readonly restartWindowMs: number;
}

export interface AuthConfig {
  readonly jwtSecret: string;
  readonly jwtIssuer: string;
  readonly jwtAudience: string;
  readonly devTokenTtlSec: number;
  readonly usingDevSecret: boolean;
}

export interface EconomyConfig {
  /** Platform share of every gift, in basis points (3000 = 30%); the creator gets the rest. */
  readonly platformShareBps: number;
  readonly giftCatalogFile: string;
  readonly leaderboardSize: number;
  /** How long a half-applied ledger operation belongs to its writer before recovery takes it over. */
  readonly ledgerLeaseMs: number;
}

/** Buying coins: the shop's catalog and each payment channel (a channel left unconfigured answers 503). */
export interface PaymentsConfig {
  readonly coinPackagesFile: string;
  /** Stripe (card payments on the web): both the secret key and the webhook signing secret, or neither. */
  readonly stripeSecretKey: string | null;
  readonly stripeWebhookSecret: string | null;
  /** Another Stripe API base (stripe-mock in tests). */
  readonly stripeApiUrl: string | null;
  /** Seconds a signed webhook delivery stays valid; older ones are refused as replays. */
  readonly webhookToleranceSec: number;
  /** App Store (StoreKit 2): null when HALOBUZZ_APPLE_BUNDLE_ID is unset. */
  readonly apple: {
    readonly bundleId: string;
    readonly environment: 'Production' | 'Sandbox';
    /** Root certificate files the signing chain must end in (Apple's root CA G3 in production). */
    readonly rootCertFiles: readonly string[];
    readonly appAppleId: number | null;
    /** OCSP revocation checks of the chain (the signature, chain, OIDs, dates, bundle and environment are always checked). */
    readonly onlineChecks: boolean;
  } | null;
  /** Google Play: null when HALOBUZZ_GOOGLE_PACKAGE_NAME is unset. */
  readonly google: {
    readonly packageName: string;
    /** The service account JSON key file with access to the Play Developer API. */
    readonly credentialsFile: string;
    /** Another API root (a local fake in tests). */
    readonly apiUrl: string | null;
    /** How often voided purchases are fetched for clawback. */
    readonly voidedPollSec: number;
  } | null;
}

/** Paying creators: the payout policy file and Stripe Connect's webhook secret (with STRIPE_SECRET_KEY). */
export interface PayoutsConfig {
  readonly policyFile: string;
  readonly connectWebhookSecret: string | null;
  /** Where a creator lands after Stripe's onboarding (and when the link expired). */
  readonly returnUrl: string;
  /** Test-only: the process kills itself at this named step (e.g. withdraw:after-hold). Refused in production. */
  readonly crashPoint: string | null;
}

export interface PushConfig {
  /** FCM HTTP v1: the Firebase service account key file; another API root for a local fake. */
  readonly fcm: { readonly credentialsFile: string; readonly apiUrl: string | null } | null;
  /** APNs token auth: the .p8 key file, key id, team id, the app's bundle id; another host:port and CA for a fake. */
  readonly apns: { readonly keyFile: string; readonly keyId: string; readonly teamId: string; readonly topic: string; readonly production: boolean; readonly address: string | null; readonly caFile: string | null } | null;
  /** Expo push: an optional access token; another base URL for a fake. */
  readonly expo: { readonly accessToken: string | null; readonly apiUrl: string | null } | null;
  /** Web Push: the VAPID key pair and contact; an extra CA to trust (a fake's, in tests). */
  readonly webpush: { readonly subject: string; readonly publicKey: string; readonly privateKey: string; readonly caFile: string | null } | null;
}

/** Real engines. Unset means the embedded default; set means that engine, and unreachable is fatal. */
export interface EnginesConfig {
  readonly mongodbUrl: string | null;
  /** Redis: today the API's rate limits (shared by every node); presence and revocation follow. */
  readonly redisUrl: string | null;
  /** ClickHouse for analytics; unset: the embedded sink chosen by HALOBUZZ_ANALYTICS. */
  readonly clickhouseUrl: string | null;
  readonly clickhouseDatabase: string;
  /** Without ClickHouse: `ndjson` (files under the data folder, default) or `off`. */
  readonly embeddedAnalytics: 'ndjson' | 'off';
  /** Events the durable analytics outbox holds at most while the store is away. */
  readonly analyticsQueueMax: number;
  /** How often the node writes its heartbeat: what connections open at a crash are closed at. */
  readonly analyticsHeartbeatMs: number;
}

export interface ApiConfig {
  /** Port of the HTTP API (Fastify), in the same process; 0 picks a free one. */
  readonly port: number;
  readonly accessTtlSec: number;
  readonly refreshTtlSec: number;
  readonly corsOrigins: readonly string[];
  readonly rateLimitPerMinute: number;
  readonly bodyLimitBytes: number;
  /** Agora: both set, or both unset (live video tokens then answer 503). */
  readonly agoraAppId: string | null;
  readonly agoraCertificate: string | null;
  readonly mediaTokenTtlSec: number;
  /**
   * Proxies (IPs or CIDRs) whose X-Forwarded-For the API believes; empty (default) trusts none, so per-IP
   * limits see the socket's peer address. Set it to your load balancers' addresses.
   */
  readonly trustedProxies: readonly string[];
  /** Serve /metrics on the API port too (off: metrics are on the socket port; an api-only process needs it on). */
  readonly metricsOnApiPort: boolean;
}

/** A cluster of socket nodes over Kafka (set by KAFKA_BROKERS; needs REDIS_URL). Null: one node. */
export interface ClusterConfig {
  readonly brokers: readonly string[];
  /** Partitions of every cluster topic; rooms and users hash onto them (change only on an empty cluster). */
  readonly partitions: number;
  /**
   * Partitions of `<prefix>.node-events`: node n reads partition n % this, so up to this many live nodes
   * each read only their own rooms' events (node numbers are picked so live nodes do not share one).
   */
  readonly nodePartitions: number;
  /** Names topics (`<prefix>.room-commands`...), the consumer group and the Redis keys of this cluster. */
  readonly topicPrefix: string;
  readonly replicationFactor: number;
  /** Kafka consumer-group session timeout: how long a silent node keeps its rooms (raised to the brokers' minimum). */
  readonly sessionTimeoutMs: number;
  /** A node whose Redis heartbeat is older than this is dead: its connections are forgotten. */
  readonly nodeTtlMs: number;
}

export interface Config {
  readonly env: 'development' | 'production' | 'test';
  /** What this process runs: sockets and API (all), sockets only (realtime), or the API alone (api). */
  readonly role: 'all' | 'realtime' | 'api';
  readonly nodeId: string;
  /** The socket URL clients reach this node at directly (HALOBUZZ_PUBLIC_URL), offered by discovery as a placement hint; null: not offered. */
  readonly publicUrl: string | null;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logLevel: string;
  /** Enables /debug routes (worker crash injection) used by the test suite. Never on in production. */
  readonly debugEndpoints: boolean;
  /**
   * One node only: `direct` (commands to the local workers) or `log` (through the in-process bus and the
   * cluster's routing, to measure what the cluster path costs; docs/design-departures.md).
   */
  readonly oneNodeRouting: 'direct' | 'log';
  /** Socket transport: `auto` (uWS when its native binding loads, else ws), `uws` (required), `ws`. */
  readonly transport: 'auto' | 'uws' | 'ws';
  /**
   * Milliseconds the socket core holds the actors' effects to write them together (core/write-delay.ts):
   * fewer system calls per delivery for up to this much latency. 0 writes at once.
   */
  readonly writeDelayMs: number;
  readonly limits: LimitsConfig;
  readonly actors: ActorConfig;
  readonly auth: AuthConfig;
  readonly economy: EconomyConfig;
  readonly api: ApiConfig;
  readonly engines: EnginesConfig;
  readonly cluster: ClusterConfig | null;
  readonly payments: PaymentsConfig;
  readonly payouts: PayoutsConfig;
  readonly games: GamesConfig;
  /** Moderation: the chat and display-name filter and the report rules (config/moderation.json). */
  readonly moderationFile: string;
  /** Privacy: the current versions of the terms and the privacy policy users accept (config/privacy.json). */
  readonly privacyFile: string;
  /** Data subject requests (docs/privacy.md): export links and limits, the erasure grace period. */
  readonly dataRights: {
    /** How long an export's download link works (the archive is deleted after). */
    readonly exportLinkTtlSec: number;
    /** One export per user per this many seconds. */
    readonly exportWindowSec: number;
    /** Between closing an account and erasing it; the owner can restore it meanwhile. */
    readonly erasureGraceSec: number;
    /** How often due erasures and expired exports are looked for. */
    readonly sweepMs: number;
  };
  /** Translated message catalogs, one folder per kind (`errors/<locale>.json`; docs/i18n.md). */
  readonly localesDir: string;
  /** When a client's claimed country counts for region rules: `when_unknown` (its address says nothing), `always`, `never` (docs/regions.md). */
  readonly regionOverride: 'when_unknown' | 'always' | 'never';
  /** Notification texts: a folder of one JSON file per locale (en.json required). */
  readonly notificationTemplatesDir: string;
  /** Push providers; a provider left unconfigured drops its pushes (counted as no_sender). */
  readonly push: PushConfig;
  readonly shutdownGraceMs: number;
}

/** In-room games of chance: off unless HALOBUZZ_GAMES=on (they are regulated in many places; see README § Games). */
export interface GamesConfig {
  readonly enabled: boolean;
  /** The games' rules, limits and thresholds (config/games.json). */
  readonly file: string;
}

export class ConfigError extends Error {
  readonly code = 'HB_CONFIG_INVALID';
  constructor(readonly variable: string, detail: string) {
    super(`invalid configuration: ${variable} ${detail}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const DEV_SECRET = 'halobuzz-dev-secret-change-me-0123456789abcdef';

function intVar(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
  if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
  throw new ConfigError(name, `must be a boolean (1/0/true/false), got "${raw}"`);
}

function strVar(env: Env, name: string, fallback: string, pattern?: RegExp): string {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (pattern && !pattern.test(raw)) throw new ConfigError(name, `must match ${pattern}, got "${raw}"`);
  return raw;
}

function urlVar(env: Env, name: string, pattern: RegExp): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  if (!pattern.test(raw)) throw new ConfigError(name, `must match ${pattern}, got "${raw}"`);
  return raw;
}

/** Push providers: each one on once its key setting is given; its other settings need that one. */
function pushVar(env: Env): PushConfig {
  const needs = (names: string[], key: string) => {
    for (const name of names) if (env[name]) throw new ConfigError(name, `needs ${key}`);
  };
  const fcmFile = env.HALOBUZZ_FCM_CREDENTIALS;
  if (!fcmFile) needs(['HALOBUZZ_FCM_URL'], 'HALOBUZZ_FCM_CREDENTIALS');
  const apnsKey = env.HALOBUZZ_APNS_KEY;
  const apnsRest = ['HALOBUZZ_APNS_KEY_ID', 'HALOBUZZ_APNS_TEAM_ID', 'HALOBUZZ_APNS_TOPIC', 'HALOBUZZ_APNS_PRODUCTION', 'HALOBUZZ_APNS_ADDRESS', 'HALOBUZZ_APNS_CA'];
  if (!apnsKey) needs(apnsRest, 'HALOBUZZ_APNS_KEY');
  const expo = boolVar(env, 'HALOBUZZ_EXPO', false);
  const webKey = env.HALOBUZZ_WEBPUSH_PRIVATE_KEY;
  if (!webKey) needs(['HALOBUZZ_WEBPUSH_PUBLIC_KEY', 'HALOBUZZ_WEBPUSH_SUBJECT', 'HALOBUZZ_WEBPUSH_CA'], 'HALOBUZZ_WEBPUSH_PRIVATE_KEY');
  const webRequired = (name: string, pattern: RegExp) => {
    const v = urlVar(env, name, pattern);
    if (v === null) throw new ConfigError(name, 'is required with HALOBUZZ_WEBPUSH_PRIVATE_KEY');
    return v;
  };
  if (!expo) needs(['HALOBUZZ_EXPO_ACCESS_TOKEN', 'HALOBUZZ_EXPO_URL'], 'HALOBUZZ_EXPO=on');
  const required = (name: string, pattern: RegExp) => {
    const v = urlVar(env, name, pattern);
    if (v === null) throw new ConfigError(name, 'is required with HALOBUZZ_APNS_KEY');
    return v;
  };
  return {
    fcm: fcmFile ? { credentialsFile: resolve(fcmFile), apiUrl: urlVar(env, 'HALOBUZZ_FCM_URL', /^https?:\/\/[^\s]+$/) } : null,
    apns: apnsKey ? {
      keyFile: resolve(apnsKey), keyId: required('HALOBUZZ_APNS_KEY_ID', /^[A-Z0-9]{10}$/), teamId: required('HALOBUZZ_APNS_TEAM_ID', /^[A-Z0-9]{10}$/),
      topic: required('HALOBUZZ_APNS_TOPIC', /^[A-Za-z0-9.-]+$/), production: boolVar(env, 'HALOBUZZ_APNS_PRODUCTION', false),
      address: urlVar(env, 'HALOBUZZ_APNS_ADDRESS', /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$/), caFile: env.HALOBUZZ_APNS_CA ? resolve(env.HALOBUZZ_APNS_CA) : null,
    } : null,
    expo: expo ? { accessToken: urlVar(env, 'HALOBUZZ_EXPO_ACCESS_TOKEN', /^\S{8,512}$/), apiUrl: urlVar(env, 'HALOBUZZ_EXPO_URL', /^https?:\/\/[^\s]+$/) } : null,
    webpush: webKey ? {
      privateKey: webRequired('HALOBUZZ_WEBPUSH_PRIVATE_KEY', /^[A-Za-z0-9_-]{43}$/), publicKey: webRequired('HALOBUZZ_WEBPUSH_PUBLIC_KEY', /^[A-Za-z0-9_-]{87}$/),
      subject: webRequired('HALOBUZZ_WEBPUSH_SUBJECT', /^(mailto:|https:\/\/)\S+$/), caFile: env.HALOBUZZ_WEBPUSH_CA ? resolve(env.HALOBUZZ_WEBPUSH_CA) : null,
    } : null,
  };
}

/** App Store settings: all of them once a bundle id is set; roots are required (no verification without them). */
function appleVar(env: Env): PaymentsConfig['apple'] {
  const bundleId = env.HALOBUZZ_APPLE_BUNDLE_ID;
  if (!bundleId) {
    for (const name of ['HALOBUZZ_APPLE_ENVIRONMENT', 'HALOBUZZ_APPLE_ROOT_CERTS', 'HALOBUZZ_APPLE_APP_ID']) {
      if (env[name]) throw new ConfigError(name, 'needs HALOBUZZ_APPLE_BUNDLE_ID');
    }
    return null;
  }
  strVar(env, 'HALOBUZZ_APPLE_BUNDLE_ID', '', /^[A-Za-z0-9.-]{3,155}$/);
  const environment = strVar(env, 'HALOBUZZ_APPLE_ENVIRONMENT', 'Production', /^(Production|Sandbox)$/) as 'Production' | 'Sandbox';
  const roots = (env.HALOBUZZ_APPLE_ROOT_CERTS ?? '').split(',').map((f) => f.trim()).filter(Boolean);
  if (roots.length === 0) throw new ConfigError('HALOBUZZ_APPLE_ROOT_CERTS', 'must name the root certificate file(s) the App Store signing chain ends in');
  const appId = env.HALOBUZZ_APPLE_APP_ID ? intVar(env, 'HALOBUZZ_APPLE_APP_ID', 0, 1, Number.MAX_SAFE_INTEGER) : null;
  if (environment === 'Production' && appId === null) throw new ConfigError('HALOBUZZ_APPLE_APP_ID', 'is required in the Production environment');
  return { bundleId, environment, rootCertFiles: roots.map((f) => resolve(f)), appAppleId: appId, onlineChecks: boolVar(env, 'HALOBUZZ_APPLE_ONLINE_CHECKS', true) };
}

/** Google Play settings: a package name needs its service-account credentials. */
function googleVar(env: Env): PaymentsConfig['google'] {
  const packageName = env.HALOBUZZ_GOOGLE_PACKAGE_NAME;
  if (!packageName) {
    for (const name of ['HALOBUZZ_GOOGLE_CREDENTIALS', 'HALOBUZZ_GOOGLE_API_URL']) {
      if (env[name]) throw new ConfigError(name, 'needs HALOBUZZ_GOOGLE_PACKAGE_NAME');
    }
    return null;
  }
  strVar(env, 'HALOBUZZ_GOOGLE_PACKAGE_NAME', '', /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$/);
  const credentials = env.HALOBUZZ_GOOGLE_CREDENTIALS;
  if (!credentials) throw new ConfigError('HALOBUZZ_GOOGLE_CREDENTIALS', 'must name the service account JSON key file');
  return {
    packageName, credentialsFile: resolve(credentials), apiUrl: urlVar(env, 'HALOBUZZ_GOOGLE_API_URL', /^https?:\/\/[^\s]+$/),
    voidedPollSec: intVar(env, 'HALOBUZZ_GOOGLE_VOIDED_POLL_SEC', 600, 10, 86_400),
  };
}

/** Every variable this module understands; anything else starting with HALOBUZZ_ is rejected as a typo. */
export const KNOWN_VARIABLES: ReadonlySet<string> = new Set([
  'HALOBUZZ_ENV', 'HALOBUZZ_WRITE_DELAY_MS', 'HALOBUZZ_ROLE', 'HALOBUZZ_NODE_ID', 'HALOBUZZ_PUBLIC_URL', 'HALOBUZZ_HOST', 'HALOBUZZ_PORT', 'HALOBUZZ_DATA_DIR', 'HALOBUZZ_LOG_LEVEL',
  'HALOBUZZ_DEBUG_ENDPOINTS', 'HALOBUZZ_WORKERS', 'HALOBUZZ_SHARDS', 'HALOBUZZ_MAILBOX_CAPACITY',
  'HALOBUZZ_THROUGHPUT_PER_TURN', 'HALOBUZZ_ROOM_HISTORY', 'HALOBUZZ_PRESENCE_INTERVAL_MS',
  'HALOBUZZ_RESTART_BUDGET', 'HALOBUZZ_RESTART_WINDOW_MS', 'HALOBUZZ_MAX_FRAME_BYTES',
  'HALOBUZZ_MAX_BACKPRESSURE_BYTES', 'HALOBUZZ_MAX_ROOMS_PER_CONNECTION', 'HALOBUZZ_MAX_CHAT_CHARS',
  'HALOBUZZ_MAX_DM_CHARS', 'HALOBUZZ_CHAT_PER_SECOND', 'HALOBUZZ_CHAT_BURST', 'HALOBUZZ_JOIN_PER_SECOND',
  'HALOBUZZ_JOIN_BURST', 'HALOBUZZ_DM_PER_SECOND', 'HALOBUZZ_DM_BURST', 'HALOBUZZ_FRAMES_PER_SECOND',
  'HALOBUZZ_FRAMES_BURST', 'HALOBUZZ_USER_CHAT_PER_SECOND', 'HALOBUZZ_USER_CHAT_BURST',
  'HALOBUZZ_ABUSE_ERROR_LIMIT', 'HALOBUZZ_ABUSE_WINDOW_MS', 'HALOBUZZ_HELLO_TIMEOUT_MS',
  'HALOBUZZ_IDLE_TIMEOUT_SEC', 'HALOBUZZ_JWT_SECRET', 'HALOBUZZ_JWT_ISSUER', 'HALOBUZZ_JWT_AUDIENCE',
  'HALOBUZZ_DEV_TOKEN_TTL_SEC', 'HALOBUZZ_SHUTDOWN_GRACE_MS', 'HALOBUZZ_PLATFORM_SHARE_BPS', 'HALOBUZZ_GIFT_CATALOG',
  'HALOBUZZ_API_PORT', 'HALOBUZZ_ACCESS_TTL_SEC', 'HALOBUZZ_REFRESH_TTL_SEC', 'HALOBUZZ_CORS_ORIGINS', 'HALOBUZZ_API_RATE_LIMIT',
  'HALOBUZZ_API_BODY_LIMIT', 'HALOBUZZ_LEADERBOARD_SIZE', 'HALOBUZZ_AGORA_APP_ID', 'HALOBUZZ_AGORA_APP_CERTIFICATE',
  'HALOBUZZ_MEDIA_TOKEN_TTL_SEC', 'HALOBUZZ_ANALYTICS', 'HALOBUZZ_ANALYTICS_QUEUE_MAX', 'HALOBUZZ_ANALYTICS_HEARTBEAT_MS', 'HALOBUZZ_CLICKHOUSE_DATABASE', 'HALOBUZZ_LEDGER_LEASE_MS', 'HALOBUZZ_GIFT_PER_SECOND', 'HALOBUZZ_GIFT_BURST',
  'HALOBUZZ_KAFKA_PARTITIONS', 'HALOBUZZ_KAFKA_NODE_PARTITIONS', 'HALOBUZZ_KAFKA_TOPIC_PREFIX', 'HALOBUZZ_KAFKA_REPLICATION', 'HALOBUZZ_KAFKA_SESSION_TIMEOUT_MS',
  'HALOBUZZ_NODE_TTL_MS', 'HALOBUZZ_API_TRUSTED_PROXIES', 'HALOBUZZ_API_METRICS', 'HALOBUZZ_TRANSPORT', 'HALOBUZZ_ONE_NODE_ROUTING',
  'HALOBUZZ_COIN_PACKAGES', 'HALOBUZZ_STRIPE_API_URL', 'HALOBUZZ_WEBHOOK_TOLERANCE_SEC',
  'HALOBUZZ_APPLE_BUNDLE_ID', 'HALOBUZZ_APPLE_ENVIRONMENT', 'HALOBUZZ_APPLE_ROOT_CERTS', 'HALOBUZZ_APPLE_APP_ID', 'HALOBUZZ_APPLE_ONLINE_CHECKS',
  'HALOBUZZ_GOOGLE_PACKAGE_NAME', 'HALOBUZZ_GOOGLE_CREDENTIALS', 'HALOBUZZ_GOOGLE_API_URL', 'HALOBUZZ_GOOGLE_VOIDED_POLL_SEC',
  'HALOBUZZ_PAYOUTS', 'HALOBUZZ_CONNECT_RETURN_URL', 'HALOBUZZ_DEBUG_CRASH_POINT', 'HALOBUZZ_GAMES', 'HALOBUZZ_GAMES_FILE',
  'HALOBUZZ_NOTIFICATION_TEMPLATES', 'HALOBUZZ_MODERATION_FILE', 'HALOBUZZ_PRIVACY_FILE', 'HALOBUZZ_EXPORT_LINK_TTL_SEC', 'HALOBUZZ_EXPORT_WINDOW_SEC', 'HALOBUZZ_ERASURE_GRACE_SEC', 'HALOBUZZ_PRIVACY_SWEEP_MS', 'HALOBUZZ_LOCALES', 'HALOBUZZ_REGION_OVERRIDE',
  'HALOBUZZ_FCM_CREDENTIALS', 'HALOBUZZ_FCM_URL', 'HALOBUZZ_APNS_KEY', 'HALOBUZZ_APNS_KEY_ID', 'HALOBUZZ_APNS_TEAM_ID', 'HALOBUZZ_APNS_TOPIC',
  'HALOBUZZ_APNS_PRODUCTION', 'HALOBUZZ_APNS_ADDRESS', 'HALOBUZZ_APNS_CA', 'HALOBUZZ_EXPO', 'HALOBUZZ_EXPO_ACCESS_TOKEN', 'HALOBUZZ_EXPO_URL',
  'HALOBUZZ_WEBPUSH_PRIVATE_KEY', 'HALOBUZZ_WEBPUSH_PUBLIC_KEY', 'HALOBUZZ_WEBPUSH_SUBJECT', 'HALOBUZZ_WEBPUSH_CA',
]);

/** HALOBUZZ_API_TRUSTED_PROXIES: comma-separated IPv4/IPv6 addresses or CIDRs (no names, no "true"). */
function proxyList(env: Env): string[] {
  const list = (env.HALOBUZZ_API_TRUSTED_PROXIES ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  for (const p of list) {
    const [addr, bits, extra] = p.split('/');
    const v4 = isIPv4(addr ?? '');
    const ok = extra === undefined && (v4 || isIPv6(addr ?? '')) && (bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (v4 ? 32 : 128)));
    if (!ok) throw new ConfigError('HALOBUZZ_API_TRUSTED_PROXIES', `must be IP addresses or CIDRs separated by commas, got "${p}"`);
  }
  return list;
}

function clusterVar(env: Env): ClusterConfig | null {
  const raw = env.KAFKA_BROKERS;
  if (raw === undefined || raw.trim() === '') return null;
  const brokers = raw.split(',').map((b) => b.trim()).filter(Boolean);
  for (const b of brokers) if (!/^[A-Za-z0-9_.-]+:\d{1,5}$/.test(b)) throw new ConfigError('KAFKA_BROKERS', `must be host:port[,host:port...], got "${b}"`);
  return Object.freeze({
    brokers: Object.freeze(brokers),
    partitions: intVar(env, 'HALOBUZZ_KAFKA_PARTITIONS', 12, 1, 10_000),
    nodePartitions: intVar(env, 'HALOBUZZ_KAFKA_NODE_PARTITIONS', 64, 1, 10_000),
    topicPrefix: strVar(env, 'HALOBUZZ_KAFKA_TOPIC_PREFIX', 'halobuzz', /^[A-Za-z0-9_-]{1,100}$/),
    replicationFactor: intVar(env, 'HALOBUZZ_KAFKA_REPLICATION', 1, 1, 10),
    // Failover within about 3 s by default (docs/cluster.md § Failover time): Kafka moves a dead node's
    // rooms after the session, the others finish its money operations after the TTL.
    sessionTimeoutMs: intVar(env, 'HALOBUZZ_KAFKA_SESSION_TIMEOUT_MS', 1500, 500, 300_000),
    nodeTtlMs: intVar(env, 'HALOBUZZ_NODE_TTL_MS', 2000, 500, 600_000),
  });
}

export function loadConfig(env: Env = process.env): Config {
  for (const name of Object.keys(env)) {
    if (name.startsWith('HALOBUZZ_') && !KNOWN_VARIABLES.has(name)) throw new ConfigError(name, 'is not a known variable');
  }
  const mode = strVar(env, 'HALOBUZZ_ENV', env.NODE_ENV === 'production' ? 'production' : 'development',
    /^(development|production|test)$/) as Config['env'];
  const secret = env.HALOBUZZ_JWT_SECRET;
  if (mode === 'production' && (secret === undefined || secret.length < 32)) {
    throw new ConfigError('HALOBUZZ_JWT_SECRET', 'must be set to at least 32 characters in production');
  }
  if (secret !== undefined && secret !== '' && secret.length < 32) {
    throw new ConfigError('HALOBUZZ_JWT_SECRET', 'must be at least 32 characters');
  }
  const cores = availableParallelism();
  const debugEndpoints = boolVar(env, 'HALOBUZZ_DEBUG_ENDPOINTS', false);
  if (debugEndpoints && mode === 'production') {
    throw new ConfigError('HALOBUZZ_DEBUG_ENDPOINTS', 'must not be enabled in production');
  }
  const config: Config = {
    env: mode,
    role: strVar(env, 'HALOBUZZ_ROLE', 'all', /^(all|realtime|api)$/) as Config['role'],
    nodeId: strVar(env, 'HALOBUZZ_NODE_ID', 'node-1', /^[A-Za-z0-9_.-]{1,64}$/),
    publicUrl: urlVar(env, 'HALOBUZZ_PUBLIC_URL', /^wss?:\/\/[^\s"']{1,500}$/),
    host: strVar(env, 'HALOBUZZ_HOST', '127.0.0.1'),
    port: intVar(env, 'HALOBUZZ_PORT', 8080, 0, 65535),
    dataDir: resolve(strVar(env, 'HALOBUZZ_DATA_DIR', 'data')),
    logLevel: strVar(env, 'HALOBUZZ_LOG_LEVEL', 'info', /^(fatal|error|warn|info|debug|trace|silent)$/),
    debugEndpoints,
    transport: strVar(env, 'HALOBUZZ_TRANSPORT', 'auto', /^(auto|uws|ws)$/) as Config['transport'],
    writeDelayMs: intVar(env, 'HALOBUZZ_WRITE_DELAY_MS', 0, 0, 100),
    oneNodeRouting: strVar(env, 'HALOBUZZ_ONE_NODE_ROUTING', 'direct', /^(direct|log)$/) as Config['oneNodeRouting'],
    limits: Object.freeze({
      maxFrameBytes: intVar(env, 'HALOBUZZ_MAX_FRAME_BYTES', 16 * 1024, 256, 1024 * 1024),
      maxBackpressureBytes: intVar(env, 'HALOBUZZ_MAX_BACKPRESSURE_BYTES', 1024 * 1024, 16 * 1024, 64 * 1024 * 1024),
      maxRoomsPerConnection: intVar(env, 'HALOBUZZ_MAX_ROOMS_PER_CONNECTION', 8, 1, 1000),
      maxChatChars: intVar(env, 'HALOBUZZ_MAX_CHAT_CHARS', 500, 1, 10000),
      maxDmChars: intVar(env, 'HALOBUZZ_MAX_DM_CHARS', 2000, 1, 10000),
      chatPerSecond: intVar(env, 'HALOBUZZ_CHAT_PER_SECOND', 5, 1, 100000),
      chatBurst: intVar(env, 'HALOBUZZ_CHAT_BURST', 10, 1, 100000),
      joinPerSecond: intVar(env, 'HALOBUZZ_JOIN_PER_SECOND', 2, 1, 100000),
      joinBurst: intVar(env, 'HALOBUZZ_JOIN_BURST', 10, 1, 100000),
      dmPerSecond: intVar(env, 'HALOBUZZ_DM_PER_SECOND', 5, 1, 100000),
      dmBurst: intVar(env, 'HALOBUZZ_DM_BURST', 20, 1, 100000),
      giftPerSecond: intVar(env, 'HALOBUZZ_GIFT_PER_SECOND', 20, 1, 100000),
      giftBurst: intVar(env, 'HALOBUZZ_GIFT_BURST', 50, 1, 100000),
      framesPerSecond: intVar(env, 'HALOBUZZ_FRAMES_PER_SECOND', 50, 1, 1000000),
      framesBurst: intVar(env, 'HALOBUZZ_FRAMES_BURST', 100, 1, 1000000),
      userChatPerSecond: intVar(env, 'HALOBUZZ_USER_CHAT_PER_SECOND', 8, 1, 100000),
      userChatBurst: intVar(env, 'HALOBUZZ_USER_CHAT_BURST', 16, 1, 100000),
      abuseErrorLimit: intVar(env, 'HALOBUZZ_ABUSE_ERROR_LIMIT', 20, 1, 100000),
      abuseWindowMs: intVar(env, 'HALOBUZZ_ABUSE_WINDOW_MS', 10_000, 100, 3_600_000),
      helloTimeoutMs: intVar(env, 'HALOBUZZ_HELLO_TIMEOUT_MS', 10_000, 100, 600_000),
      idleTimeoutSec: intVar(env, 'HALOBUZZ_IDLE_TIMEOUT_SEC', 60, 0, 960),
    }),
    actors: Object.freeze({
      workers: intVar(env, 'HALOBUZZ_WORKERS', Math.max(1, cores), 1, 256),
      shards: intVar(env, 'HALOBUZZ_SHARDS', 64, 1, 65536),
      mailboxCapacity: intVar(env, 'HALOBUZZ_MAILBOX_CAPACITY', 4096, 1, 1_000_000),
      throughputPerTurn: intVar(env, 'HALOBUZZ_THROUGHPUT_PER_TURN', 256, 1, 1_000_000),
      roomHistory: intVar(env, 'HALOBUZZ_ROOM_HISTORY', 500, 1, 100_000),
      presenceIntervalMs: intVar(env, 'HALOBUZZ_PRESENCE_INTERVAL_MS', 1000, 10, 60_000),
      restartBudget: intVar(env, 'HALOBUZZ_RESTART_BUDGET', 10, 0, 10_000),
      restartWindowMs: intVar(env, 'HALOBUZZ_RESTART_WINDOW_MS', 60_000, 1000, 3_600_000),
    }),
    auth: Object.freeze({
      jwtSecret: secret !== undefined && secret !== '' ? secret : DEV_SECRET,
      jwtIssuer: strVar(env, 'HALOBUZZ_JWT_ISSUER', 'halobuzz'),
      jwtAudience: strVar(env, 'HALOBUZZ_JWT_AUDIENCE', 'halobuzz-realtime'),
      devTokenTtlSec: intVar(env, 'HALOBUZZ_DEV_TOKEN_TTL_SEC', 24 * 3600, 1, 365 * 24 * 3600),
      usingDevSecret: secret === undefined || secret === '',
    }),
    economy: Object.freeze({
      platformShareBps: intVar(env, 'HALOBUZZ_PLATFORM_SHARE_BPS', 3000, 0, 10_000),
      giftCatalogFile: resolve(strVar(env, 'HALOBUZZ_GIFT_CATALOG', join(__dirname, '..', '..', 'config', 'gift-catalog.json'))),
      leaderboardSize: intVar(env, 'HALOBUZZ_LEADERBOARD_SIZE', 10, 1, 100),
      ledgerLeaseMs: intVar(env, 'HALOBUZZ_LEDGER_LEASE_MS', 30_000, 10, 3_600_000),
    }),
    api: Object.freeze({
      port: intVar(env, 'HALOBUZZ_API_PORT', 8081, 0, 65535),
      accessTtlSec: intVar(env, 'HALOBUZZ_ACCESS_TTL_SEC', 900, 10, 86_400),
      refreshTtlSec: intVar(env, 'HALOBUZZ_REFRESH_TTL_SEC', 30 * 86_400, 60, 365 * 86_400),
      corsOrigins: Object.freeze(strVar(env, 'HALOBUZZ_CORS_ORIGINS', '').split(',').map((o) => o.trim()).filter(Boolean)),
      rateLimitPerMinute: intVar(env, 'HALOBUZZ_API_RATE_LIMIT', 600, 1, 10_000_000),
      bodyLimitBytes: intVar(env, 'HALOBUZZ_API_BODY_LIMIT', 64 * 1024, 1024, 10 * 1024 * 1024),
      agoraAppId: env.HALOBUZZ_AGORA_APP_ID ? strVar(env, 'HALOBUZZ_AGORA_APP_ID', '', /^[0-9a-fA-F]{32}$/) : null,
      agoraCertificate: env.HALOBUZZ_AGORA_APP_CERTIFICATE ? strVar(env, 'HALOBUZZ_AGORA_APP_CERTIFICATE', '', /^[0-9a-fA-F]{32}$/) : null,
      mediaTokenTtlSec: intVar(env, 'HALOBUZZ_MEDIA_TOKEN_TTL_SEC', 3600, 60, 86_400),
      trustedProxies: Object.freeze(proxyList(env)),
      metricsOnApiPort: strVar(env, 'HALOBUZZ_API_METRICS', '0', /^(0|1)$/) === '1',
    }),
    engines: Object.freeze({
      mongodbUrl: urlVar(env, 'MONGODB_URL', /^mongodb(\+srv)?:\/\//),
      redisUrl: urlVar(env, 'REDIS_URL', /^(rediss?:\/\/|redis-cluster:\/\/[A-Za-z0-9_.-]+:\d{1,5}(,[A-Za-z0-9_.-]+:\d{1,5})*$)/),
      clickhouseUrl: urlVar(env, 'CLICKHOUSE_URL', /^https?:\/\//),
      clickhouseDatabase: strVar(env, 'HALOBUZZ_CLICKHOUSE_DATABASE', 'default', /^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
      embeddedAnalytics: strVar(env, 'HALOBUZZ_ANALYTICS', 'ndjson', /^(ndjson|off)$/) as 'ndjson' | 'off',
      analyticsQueueMax: intVar(env, 'HALOBUZZ_ANALYTICS_QUEUE_MAX', 1_000_000, 100, 100_000_000),
      analyticsHeartbeatMs: intVar(env, 'HALOBUZZ_ANALYTICS_HEARTBEAT_MS', 1000, 100, 60_000),
    }),
    cluster: clusterVar(env),
    payments: Object.freeze({
      coinPackagesFile: resolve(strVar(env, 'HALOBUZZ_COIN_PACKAGES', join(__dirname, '..', '..', 'config', 'coin-packages.json'))),
      stripeSecretKey: urlVar(env, 'STRIPE_SECRET_KEY', /^(sk|rk)_(test|live)_[A-Za-z0-9]+$/),
      stripeWebhookSecret: urlVar(env, 'STRIPE_WEBHOOK_SECRET', /^whsec_[A-Za-z0-9+/=_-]+$/),
      stripeApiUrl: urlVar(env, 'HALOBUZZ_STRIPE_API_URL', /^https?:\/\/[^\s/]+\/?$/),
      webhookToleranceSec: intVar(env, 'HALOBUZZ_WEBHOOK_TOLERANCE_SEC', 300, 10, 3600),
      apple: appleVar(env),
      google: googleVar(env),
    }),
    payouts: Object.freeze({
      policyFile: resolve(strVar(env, 'HALOBUZZ_PAYOUTS', join(__dirname, '..', '..', 'config', 'payouts.json'))),
      connectWebhookSecret: urlVar(env, 'STRIPE_CONNECT_WEBHOOK_SECRET', /^whsec_[A-Za-z0-9+/=_-]+$/),
      returnUrl: strVar(env, 'HALOBUZZ_CONNECT_RETURN_URL', 'https://halobuzz.app/creator/payouts', /^https?:\/\/\S+$/),
      crashPoint: urlVar(env, 'HALOBUZZ_DEBUG_CRASH_POINT', /^[a-z_]+:[a-z_-]+$/),
    }),
    games: Object.freeze({
      enabled: boolVar(env, 'HALOBUZZ_GAMES', false),
      file: resolve(strVar(env, 'HALOBUZZ_GAMES_FILE', join(__dirname, '..', '..', 'config', 'games.json'))),
    }),
    push: pushVar(env),
    moderationFile: resolve(strVar(env, 'HALOBUZZ_MODERATION_FILE', join(__dirname, '..', '..', 'config', 'moderation.json'))),
    privacyFile: resolve(strVar(env, 'HALOBUZZ_PRIVACY_FILE', join(__dirname, '..', '..', 'config', 'privacy.json'))),
    dataRights: Object.freeze({
      exportLinkTtlSec: intVar(env, 'HALOBUZZ_EXPORT_LINK_TTL_SEC', 7 * 86_400, 1, 90 * 86_400),
      exportWindowSec: intVar(env, 'HALOBUZZ_EXPORT_WINDOW_SEC', 86_400, 0, 90 * 86_400),
      erasureGraceSec: intVar(env, 'HALOBUZZ_ERASURE_GRACE_SEC', 30 * 86_400, 0, 365 * 86_400),
      sweepMs: intVar(env, 'HALOBUZZ_PRIVACY_SWEEP_MS', 60_000, 100, 86_400_000),
    }),
    localesDir: resolve(strVar(env, 'HALOBUZZ_LOCALES', join(__dirname, '..', '..', 'config', 'locales'))),
    regionOverride: strVar(env, 'HALOBUZZ_REGION_OVERRIDE', 'when_unknown', /^(when_unknown|always|never)$/) as Config['regionOverride'],
    notificationTemplatesDir: resolve(strVar(env, 'HALOBUZZ_NOTIFICATION_TEMPLATES', join(__dirname, '..', '..', 'config', 'notifications'))),
    shutdownGraceMs: intVar(env, 'HALOBUZZ_SHUTDOWN_GRACE_MS', 5000, 0, 600_000),
  };
  if (config.cluster && config.engines.redisUrl === null) {
    throw new ConfigError('REDIS_URL', 'must be set when KAFKA_BROKERS is: cluster nodes share room state, presence and rate limits in Redis');
  }
  if (config.role === 'api' && config.engines.redisUrl === null) {
    throw new ConfigError('REDIS_URL', 'must be set when HALOBUZZ_ROLE=api: the API reaches the socket nodes through Redis');
  }
  if (config.payouts.crashPoint && (mode === 'production' || !config.debugEndpoints)) {
    throw new ConfigError('HALOBUZZ_DEBUG_CRASH_POINT', 'is a test-only switch: it needs HALOBUZZ_DEBUG_ENDPOINTS and never runs in production');
  }
  if (config.payouts.connectWebhookSecret && !config.payments.stripeSecretKey) {
    throw new ConfigError('STRIPE_CONNECT_WEBHOOK_SECRET', 'needs STRIPE_SECRET_KEY (payouts go through the same Stripe account)');
  }
  if ((config.payments.stripeSecretKey === null) !== (config.payments.stripeWebhookSecret === null)) {
    throw new ConfigError(config.payments.stripeSecretKey ? 'STRIPE_WEBHOOK_SECRET' : 'STRIPE_SECRET_KEY', 'must be set together: coins are credited only from verified webhooks');
  }
  if (mode === 'production' && config.payments.stripeSecretKey?.includes('_test_')) {
    throw new ConfigError('STRIPE_SECRET_KEY', 'is a test key; production needs a live key');
  }
  if ((config.api.agoraAppId === null) !== (config.api.agoraCertificate === null)) {
    throw new ConfigError(config.api.agoraAppId ? 'HALOBUZZ_AGORA_APP_CERTIFICATE' : 'HALOBUZZ_AGORA_APP_ID', 'must be set together with its pair');
  }
  if (config.actors.shards < config.actors.workers) {
    throw new ConfigError('HALOBUZZ_SHARDS', `must be at least HALOBUZZ_WORKERS (${config.actors.workers})`);
  }
  return Object.freeze(config);
}
