/**
 * Every configuration variable: its default, a valid value that reaches the config, and invalid values
 * that stop the process with HB_CONFIG_INVALID naming the variable. The table must cover every variable
 * loadConfig knows (checked), so a new variable cannot arrive untested.
 */
import t from 'tap';
import { ConfigError, KNOWN_VARIABLES, loadConfig, type Config } from './config';

type Case = { read: (c: Config) => unknown; byDefault: unknown; valid: string; expect?: unknown; invalid: string[]; env?: Record<string, string> };
const CLUSTER = { KAFKA_BROKERS: '127.0.0.1:19092', REDIS_URL: 'redis://127.0.0.1:6390' };
const int = (read: (c: Config) => unknown, byDefault: unknown, valid: number, min: number, max: number, env?: Record<string, string>): Case =>
  ({ read, byDefault, valid: String(valid), expect: valid, invalid: ['abc', '1.5', String(min - 1), String(max + 1)], ...(env ? { env } : {}) });

const CASES: Record<string, Case> = {
  HALOBUZZ_ENV: { read: (c) => c.env, byDefault: 'development', valid: 'test', invalid: ['staging'] },
  HALOBUZZ_ROLE: { read: (c) => c.role, byDefault: 'all', valid: 'realtime', invalid: ['both'] },
  HALOBUZZ_NODE_ID: { read: (c) => c.nodeId, byDefault: 'node-1', valid: 'ws-7', invalid: ['bad id!', 'x'.repeat(65)] },
  HALOBUZZ_PUBLIC_URL: { read: (c) => c.publicUrl, byDefault: null, valid: 'wss://n7.live.example.com/ws', invalid: ['https://n7.example.com/ws', 'ws://a b'] },
  HALOBUZZ_HOST: { read: (c) => c.host, byDefault: '127.0.0.1', valid: '0.0.0.0', invalid: [] },
  HALOBUZZ_PORT: int((c) => c.port, 8080, 9000, 0, 65535),
  HALOBUZZ_DATA_DIR: { read: (c) => c.dataDir.endsWith('/data'), byDefault: true, valid: '/tmp/hb-config-test', expect: false, invalid: [] },
  HALOBUZZ_LOG_LEVEL: { read: (c) => c.logLevel, byDefault: 'info', valid: 'debug', invalid: ['loud'] },
  HALOBUZZ_DEBUG_ENDPOINTS: { read: (c) => c.debugEndpoints, byDefault: false, valid: '1', expect: true, invalid: ['maybe'] },
  HALOBUZZ_TRANSPORT: { read: (c) => c.transport, byDefault: 'auto', valid: 'ws', invalid: ['uwebsockets'] },
  HALOBUZZ_WRITE_DELAY_MS: int((c) => c.writeDelayMs, 0, 5, 0, 100),
  HALOBUZZ_ONE_NODE_ROUTING: { read: (c) => c.oneNodeRouting, byDefault: 'direct', valid: 'log', invalid: ['kafka'] },
  HALOBUZZ_MAX_FRAME_BYTES: int((c) => c.limits.maxFrameBytes, 16384, 4096, 256, 1024 * 1024),
  HALOBUZZ_MAX_BACKPRESSURE_BYTES: int((c) => c.limits.maxBackpressureBytes, 1048576, 65536, 16384, 64 * 1024 * 1024),
  HALOBUZZ_MAX_ROOMS_PER_CONNECTION: int((c) => c.limits.maxRoomsPerConnection, 8, 3, 1, 1000),
  HALOBUZZ_MAX_CHAT_CHARS: int((c) => c.limits.maxChatChars, 500, 200, 1, 10000),
  HALOBUZZ_MAX_DM_CHARS: int((c) => c.limits.maxDmChars, 2000, 300, 1, 10000),
  HALOBUZZ_CHAT_PER_SECOND: int((c) => c.limits.chatPerSecond, 5, 7, 1, 100000),
  HALOBUZZ_CHAT_BURST: int((c) => c.limits.chatBurst, 10, 11, 1, 100000),
  HALOBUZZ_JOIN_PER_SECOND: int((c) => c.limits.joinPerSecond, 2, 3, 1, 100000),
  HALOBUZZ_JOIN_BURST: int((c) => c.limits.joinBurst, 10, 12, 1, 100000),
  HALOBUZZ_DM_PER_SECOND: int((c) => c.limits.dmPerSecond, 5, 6, 1, 100000),
  HALOBUZZ_DM_BURST: int((c) => c.limits.dmBurst, 20, 21, 1, 100000),
  HALOBUZZ_GIFT_PER_SECOND: int((c) => c.limits.giftPerSecond, 20, 25, 1, 100000),
  HALOBUZZ_GIFT_BURST: int((c) => c.limits.giftBurst, 50, 55, 1, 100000),
  HALOBUZZ_FRAMES_PER_SECOND: int((c) => c.limits.framesPerSecond, 50, 60, 1, 1000000),
  HALOBUZZ_FRAMES_BURST: int((c) => c.limits.framesBurst, 100, 120, 1, 1000000),
  HALOBUZZ_USER_CHAT_PER_SECOND: int((c) => c.limits.userChatPerSecond, 8, 9, 1, 100000),
  HALOBUZZ_USER_CHAT_BURST: int((c) => c.limits.userChatBurst, 16, 17, 1, 100000),
  HALOBUZZ_ABUSE_ERROR_LIMIT: int((c) => c.limits.abuseErrorLimit, 20, 30, 1, 100000),
  HALOBUZZ_ABUSE_WINDOW_MS: int((c) => c.limits.abuseWindowMs, 10000, 5000, 100, 3600000),
  HALOBUZZ_HELLO_TIMEOUT_MS: int((c) => c.limits.helloTimeoutMs, 10000, 3000, 100, 600000),
  HALOBUZZ_IDLE_TIMEOUT_SEC: int((c) => c.limits.idleTimeoutSec, 60, 0, 0, 960),
  HALOBUZZ_WORKERS: int((c) => c.actors.workers, undefined, 3, 1, 256),
  HALOBUZZ_SHARDS: int((c) => c.actors.shards, 64, 128, 1, 65536, { HALOBUZZ_WORKERS: '1' }),
  HALOBUZZ_MAILBOX_CAPACITY: int((c) => c.actors.mailboxCapacity, 4096, 100, 1, 1000000),
  HALOBUZZ_THROUGHPUT_PER_TURN: int((c) => c.actors.throughputPerTurn, 256, 64, 1, 1000000),
  HALOBUZZ_ROOM_HISTORY: int((c) => c.actors.roomHistory, 500, 50, 1, 100000),
  HALOBUZZ_PRESENCE_INTERVAL_MS: int((c) => c.actors.presenceIntervalMs, 1000, 250, 10, 60000),
  HALOBUZZ_RESTART_BUDGET: int((c) => c.actors.restartBudget, 10, 3, 0, 10000),
  HALOBUZZ_RESTART_WINDOW_MS: int((c) => c.actors.restartWindowMs, 60000, 30000, 1000, 3600000),
  HALOBUZZ_JWT_SECRET: { read: (c) => c.auth.usingDevSecret, byDefault: true, valid: 's'.repeat(32), expect: false, invalid: ['short'] },
  HALOBUZZ_JWT_ISSUER: { read: (c) => c.auth.jwtIssuer, byDefault: 'halobuzz', valid: 'me', invalid: [] },
  HALOBUZZ_JWT_AUDIENCE: { read: (c) => c.auth.jwtAudience, byDefault: 'halobuzz-realtime', valid: 'them', invalid: [] },
  HALOBUZZ_DEV_TOKEN_TTL_SEC: int((c) => c.auth.devTokenTtlSec, 86400, 60, 1, 365 * 24 * 3600),
  HALOBUZZ_SHUTDOWN_GRACE_MS: int((c) => c.shutdownGraceMs, 5000, 100, 0, 600000),
  HALOBUZZ_PLATFORM_SHARE_BPS: int((c) => c.economy.platformShareBps, 3000, 2500, 0, 10000),
  HALOBUZZ_GIFT_CATALOG: { read: (c) => c.economy.giftCatalogFile.endsWith('config/gift-catalog.json'), byDefault: true, valid: '/tmp/other-catalog.json', expect: false, invalid: [] },
  HALOBUZZ_LEADERBOARD_SIZE: int((c) => c.economy.leaderboardSize, 10, 5, 1, 100),
  HALOBUZZ_LEDGER_LEASE_MS: int((c) => c.economy.ledgerLeaseMs, 30000, 1000, 10, 3600000),
  HALOBUZZ_API_PORT: int((c) => c.api.port, 8081, 9001, 0, 65535),
  HALOBUZZ_ACCESS_TTL_SEC: int((c) => c.api.accessTtlSec, 900, 600, 10, 86400),
  HALOBUZZ_REFRESH_TTL_SEC: int((c) => c.api.refreshTtlSec, 2592000, 3600, 60, 365 * 86400),
  HALOBUZZ_CORS_ORIGINS: { read: (c) => c.api.corsOrigins, byDefault: [], valid: 'https://a.example, https://b.example', expect: ['https://a.example', 'https://b.example'], invalid: [] },
  HALOBUZZ_API_RATE_LIMIT: int((c) => c.api.rateLimitPerMinute, 600, 100, 1, 10000000),
  HALOBUZZ_API_BODY_LIMIT: int((c) => c.api.bodyLimitBytes, 65536, 2048, 1024, 10 * 1024 * 1024),
  // Set in pairs: the default (neither, null) is checked under 'rules across variables'.
  HALOBUZZ_AGORA_APP_ID: { read: (c) => c.api.agoraAppId, byDefault: undefined, valid: 'a'.repeat(32), invalid: ['xyz'], env: { HALOBUZZ_AGORA_APP_CERTIFICATE: 'b'.repeat(32) } },
  HALOBUZZ_AGORA_APP_CERTIFICATE: { read: (c) => c.api.agoraCertificate, byDefault: undefined, valid: 'b'.repeat(32), invalid: ['xyz'], env: { HALOBUZZ_AGORA_APP_ID: 'a'.repeat(32) } },
  HALOBUZZ_MEDIA_TOKEN_TTL_SEC: int((c) => c.api.mediaTokenTtlSec, 3600, 600, 60, 86400),
  HALOBUZZ_API_TRUSTED_PROXIES: { read: (c) => c.api.trustedProxies, byDefault: [], valid: '10.0.0.0/8, ::1, 192.168.1.10', expect: ['10.0.0.0/8', '::1', '192.168.1.10'], invalid: ['true', 'lb.example.com', '10.0.0.0/33', '10.0.0.1/8/1'] },
  HALOBUZZ_API_METRICS: { read: (c) => c.api.metricsOnApiPort, byDefault: false, valid: '1', expect: true, invalid: ['yes'] },
  HALOBUZZ_ANALYTICS: { read: (c) => c.engines.embeddedAnalytics, byDefault: 'ndjson', valid: 'off', invalid: ['clickhouse'] },
  HALOBUZZ_ANALYTICS_QUEUE_MAX: int((c) => c.engines.analyticsQueueMax, 1000000, 1000, 100, 100000000),
  HALOBUZZ_ANALYTICS_HEARTBEAT_MS: int((c) => c.engines.analyticsHeartbeatMs, 1000, 2000, 100, 60000),
  HALOBUZZ_COIN_PACKAGES: { read: (c) => c.payments.coinPackagesFile.endsWith('config/coin-packages.json'), byDefault: true, valid: '/tmp/other-packages.json', expect: false, invalid: [] },
  HALOBUZZ_STRIPE_API_URL: { read: (c) => c.payments.stripeApiUrl, byDefault: null, valid: 'http://127.0.0.1:12111', invalid: ['ftp://x', 'not a url'] },
  HALOBUZZ_WEBHOOK_TOLERANCE_SEC: int((c) => c.payments.webhookToleranceSec, 300, 600, 10, 3600),
  HALOBUZZ_APPLE_BUNDLE_ID: { read: (c) => c.payments.apple?.bundleId, byDefault: undefined, valid: 'com.halobuzz.app', invalid: ['bad bundle!'], env: { HALOBUZZ_APPLE_ROOT_CERTS: '/tmp/root.pem', HALOBUZZ_APPLE_ENVIRONMENT: 'Sandbox' } },
  HALOBUZZ_APPLE_ENVIRONMENT: { read: (c) => c.payments.apple?.environment, byDefault: 'Production', valid: 'Sandbox', invalid: ['Xcode', 'LocalTesting'], env: { HALOBUZZ_APPLE_BUNDLE_ID: 'com.halobuzz.app', HALOBUZZ_APPLE_ROOT_CERTS: '/tmp/root.pem', HALOBUZZ_APPLE_APP_ID: '1234' } },
  HALOBUZZ_APPLE_ROOT_CERTS: { read: (c) => c.payments.apple?.rootCertFiles, byDefault: undefined, valid: '/tmp/a.pem,/tmp/b.cer', expect: ['/tmp/a.pem', '/tmp/b.cer'], invalid: [''], env: { HALOBUZZ_APPLE_BUNDLE_ID: 'com.halobuzz.app', HALOBUZZ_APPLE_ENVIRONMENT: 'Sandbox' } },
  HALOBUZZ_APPLE_APP_ID: { read: (c) => c.payments.apple?.appAppleId, byDefault: undefined, valid: '1234567890', expect: 1234567890, invalid: ['abc', '0'], env: { HALOBUZZ_APPLE_BUNDLE_ID: 'com.halobuzz.app', HALOBUZZ_APPLE_ROOT_CERTS: '/tmp/root.pem' } },
  HALOBUZZ_APPLE_ONLINE_CHECKS: { read: (c) => c.payments.apple?.onlineChecks, byDefault: true, valid: '0', expect: false, invalid: ['maybe'], env: { HALOBUZZ_APPLE_BUNDLE_ID: 'com.halobuzz.app', HALOBUZZ_APPLE_ROOT_CERTS: '/tmp/root.pem', HALOBUZZ_APPLE_ENVIRONMENT: 'Sandbox' } },
  HALOBUZZ_GOOGLE_PACKAGE_NAME: { read: (c) => c.payments.google?.packageName, byDefault: undefined, valid: 'com.halobuzz.app', invalid: ['nodots', 'com.1bad'], env: { HALOBUZZ_GOOGLE_CREDENTIALS: '/tmp/sa.json' } },
  HALOBUZZ_GOOGLE_CREDENTIALS: { read: (c) => c.payments.google?.credentialsFile, byDefault: undefined, valid: '/tmp/sa.json', invalid: [''], env: { HALOBUZZ_GOOGLE_PACKAGE_NAME: 'com.halobuzz.app' } },
  HALOBUZZ_GOOGLE_API_URL: { read: (c) => c.payments.google?.apiUrl, byDefault: null, valid: 'http://127.0.0.1:9999/', invalid: ['ftp://x'], env: { HALOBUZZ_GOOGLE_PACKAGE_NAME: 'com.halobuzz.app', HALOBUZZ_GOOGLE_CREDENTIALS: '/tmp/sa.json' } },
  HALOBUZZ_GOOGLE_VOIDED_POLL_SEC: int((c) => c.payments.google?.voidedPollSec, 600, 60, 10, 86400, { HALOBUZZ_GOOGLE_PACKAGE_NAME: 'com.halobuzz.app', HALOBUZZ_GOOGLE_CREDENTIALS: '/tmp/sa.json' }),
  HALOBUZZ_GAMES: { read: (c) => c.games.enabled, byDefault: false, valid: 'on', expect: true, invalid: ['maybe'] },
  HALOBUZZ_REGION_OVERRIDE: { read: (c) => c.regionOverride, byDefault: 'when_unknown', valid: 'never', expect: 'never', invalid: ['sometimes'] },
  HALOBUZZ_LOCALES: { read: (c) => c.localesDir.endsWith('config/locales'), byDefault: true, valid: '/tmp/other-locales', expect: false, invalid: [] },
  HALOBUZZ_EXPORT_LINK_TTL_SEC: { read: (c) => c.dataRights.exportLinkTtlSec, byDefault: 604_800, valid: '60', expect: 60, invalid: ['0', 'week'] },
  HALOBUZZ_EXPORT_WINDOW_SEC: { read: (c) => c.dataRights.exportWindowSec, byDefault: 86_400, valid: '0', expect: 0, invalid: ['-1', 'day'] },
  HALOBUZZ_ERASURE_GRACE_SEC: { read: (c) => c.dataRights.erasureGraceSec, byDefault: 2_592_000, valid: '2', expect: 2, invalid: ['-1', 'month'] },
  HALOBUZZ_PRIVACY_SWEEP_MS: { read: (c) => c.dataRights.sweepMs, byDefault: 60_000, valid: '500', expect: 500, invalid: ['10', 'often'] },
  HALOBUZZ_PRIVACY_FILE: { read: (c) => c.privacyFile.endsWith('config/privacy.json'), byDefault: true, valid: '/tmp/other-privacy.json', expect: false, invalid: [] },
  HALOBUZZ_MODERATION_FILE: { read: (c) => c.moderationFile.endsWith('config/moderation.json'), byDefault: true, valid: '/tmp/other-moderation.json', expect: false, invalid: [] },
  HALOBUZZ_GAMES_FILE: { read: (c) => c.games.file.endsWith('config/games.json'), byDefault: true, valid: '/tmp/other-games.json', expect: false, invalid: [] },
  HALOBUZZ_NOTIFICATION_TEMPLATES: { read: (c) => c.notificationTemplatesDir.endsWith('config/notifications'), byDefault: true, valid: '/tmp/other-texts', expect: false, invalid: [] },
  HALOBUZZ_FCM_CREDENTIALS: { read: (c) => c.push.fcm?.credentialsFile, byDefault: undefined, valid: '/tmp/fcm.json', invalid: [] },
  HALOBUZZ_FCM_URL: { read: (c) => c.push.fcm?.apiUrl, byDefault: undefined, valid: 'http://127.0.0.1:9/', invalid: ['ftp://x'], env: { HALOBUZZ_FCM_CREDENTIALS: '/tmp/fcm.json' } },
  HALOBUZZ_APNS_KEY: { read: (c) => c.push.apns?.keyFile, byDefault: undefined, valid: '/tmp/k.p8', invalid: [], env: { HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz' } },
  HALOBUZZ_APNS_KEY_ID: { read: (c) => c.push.apns?.keyId, byDefault: undefined, valid: 'ZZZ123DEFG', invalid: ['short'], env: { HALOBUZZ_APNS_KEY: '/tmp/k.p8', HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz' } },
  HALOBUZZ_APNS_TEAM_ID: { read: (c) => c.push.apns?.teamId, byDefault: undefined, valid: 'TEAM999999', invalid: ['team'], env: { HALOBUZZ_APNS_KEY: '/tmp/k.p8', HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz' } },
  HALOBUZZ_APNS_TOPIC: { read: (c) => c.push.apns?.topic, byDefault: undefined, valid: 'com.example.app', invalid: ['has space'], env: { HALOBUZZ_APNS_KEY: '/tmp/k.p8', HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz' } },
  HALOBUZZ_APNS_PRODUCTION: { read: (c) => c.push.apns?.production, byDefault: undefined, valid: '1', expect: true, invalid: ['maybe'], env: { HALOBUZZ_APNS_KEY: '/tmp/k.p8', HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz' } },
  HALOBUZZ_APNS_ADDRESS: { read: (c) => c.push.apns?.address, byDefault: undefined, valid: 'localhost:8443', invalid: ['https://x'], env: { HALOBUZZ_APNS_KEY: '/tmp/k.p8', HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz' } },
  HALOBUZZ_APNS_CA: { read: (c) => c.push.apns?.caFile, byDefault: undefined, valid: '/tmp/ca.pem', invalid: [], env: { HALOBUZZ_APNS_KEY: '/tmp/k.p8', HALOBUZZ_APNS_KEY_ID: 'ABC123DEFG', HALOBUZZ_APNS_TEAM_ID: 'TEAM123456', HALOBUZZ_APNS_TOPIC: 'app.halobuzz' } },
  HALOBUZZ_EXPO: { read: (c) => c.push.expo !== null, byDefault: false, valid: 'on', expect: true, invalid: ['maybe'] },
  HALOBUZZ_EXPO_ACCESS_TOKEN: { read: (c) => c.push.expo?.accessToken, byDefault: undefined, valid: 'expo-token-123', invalid: ['short'], env: { HALOBUZZ_EXPO: 'on' } },
  HALOBUZZ_EXPO_URL: { read: (c) => c.push.expo?.apiUrl, byDefault: undefined, valid: 'http://127.0.0.1:9', invalid: ['ftp://x'], env: { HALOBUZZ_EXPO: 'on' } },
  HALOBUZZ_WEBPUSH_PRIVATE_KEY: { read: (c) => c.push.webpush?.privateKey, byDefault: undefined, valid: 'q'.repeat(43), invalid: ['short'], env: { HALOBUZZ_WEBPUSH_PUBLIC_KEY: 'B'.repeat(87), HALOBUZZ_WEBPUSH_SUBJECT: 'mailto:ops@halobuzz.app' } },
  HALOBUZZ_WEBPUSH_PUBLIC_KEY: { read: (c) => c.push.webpush?.publicKey, byDefault: undefined, valid: 'C'.repeat(87), invalid: ['short'], env: { HALOBUZZ_WEBPUSH_PRIVATE_KEY: 'p'.repeat(43), HALOBUZZ_WEBPUSH_PUBLIC_KEY: 'B'.repeat(87), HALOBUZZ_WEBPUSH_SUBJECT: 'mailto:ops@halobuzz.app' } },
  HALOBUZZ_WEBPUSH_SUBJECT: { read: (c) => c.push.webpush?.subject, byDefault: undefined, valid: 'https://halobuzz.app', invalid: ['ops@halobuzz.app'], env: { HALOBUZZ_WEBPUSH_PRIVATE_KEY: 'p'.repeat(43), HALOBUZZ_WEBPUSH_PUBLIC_KEY: 'B'.repeat(87), HALOBUZZ_WEBPUSH_SUBJECT: 'mailto:ops@halobuzz.app' } },
  HALOBUZZ_WEBPUSH_CA: { read: (c) => c.push.webpush?.caFile, byDefault: undefined, valid: '/tmp/ca.pem', invalid: [], env: { HALOBUZZ_WEBPUSH_PRIVATE_KEY: 'p'.repeat(43), HALOBUZZ_WEBPUSH_PUBLIC_KEY: 'B'.repeat(87), HALOBUZZ_WEBPUSH_SUBJECT: 'mailto:ops@halobuzz.app' } },
  HALOBUZZ_PAYOUTS: { read: (c) => c.payouts.policyFile.endsWith('config/payouts.json'), byDefault: true, valid: '/tmp/other-payouts.json', expect: false, invalid: [] },
  HALOBUZZ_CONNECT_RETURN_URL: { read: (c) => c.payouts.returnUrl, byDefault: 'https://halobuzz.app/creator/payouts', valid: 'http://127.0.0.1:3000/done', invalid: ['javascript:alert(1)'] },
  HALOBUZZ_DEBUG_CRASH_POINT: { read: (c) => c.payouts.crashPoint, byDefault: null, valid: 'withdraw:after-hold', invalid: ['rm -rf'], env: { HALOBUZZ_DEBUG_ENDPOINTS: '1' } },
  HALOBUZZ_CLICKHOUSE_DATABASE: { read: (c) => c.engines.clickhouseDatabase, byDefault: 'default', valid: 'analytics_2', invalid: ['drop table;'] },
  HALOBUZZ_KAFKA_PARTITIONS: int((c) => c.cluster?.partitions, 12, 24, 1, 10000, CLUSTER),
  HALOBUZZ_KAFKA_NODE_PARTITIONS: int((c) => c.cluster?.nodePartitions, 64, 128, 1, 10000, CLUSTER),
  HALOBUZZ_KAFKA_TOPIC_PREFIX: { read: (c) => c.cluster?.topicPrefix, byDefault: 'halobuzz', valid: 'prod-eu', invalid: ['a.b'], env: CLUSTER },
  HALOBUZZ_KAFKA_REPLICATION: int((c) => c.cluster?.replicationFactor, 1, 3, 1, 10, CLUSTER),
  HALOBUZZ_KAFKA_SESSION_TIMEOUT_MS: int((c) => c.cluster?.sessionTimeoutMs, 1500, 20000, 500, 300000, CLUSTER),
  HALOBUZZ_NODE_TTL_MS: int((c) => c.cluster?.nodeTtlMs, 2000, 5000, 500, 600000, CLUSTER),
};

t.test('the table covers every variable loadConfig knows', async (t) => {
  t.same([...KNOWN_VARIABLES].filter((v) => !(v in CASES)), [], 'no variable without a case');
  t.same(Object.keys(CASES).filter((v) => !KNOWN_VARIABLES.has(v)), [], 'no case for an unknown variable');
});

for (const [name, c] of Object.entries(CASES)) {
  t.test(name, async (t) => {
    const base = c.env ?? {};
    if (c.byDefault !== undefined) t.same(c.read(loadConfig({ ...base })), c.byDefault, 'default');
    t.same(c.read(loadConfig({ ...base, [name]: c.valid })), c.expect ?? c.valid, `valid: ${c.valid}`);
    for (const bad of c.invalid) {
      try {
        loadConfig({ ...base, [name]: bad });
        t.fail(`"${bad}" was accepted`);
      } catch (err) {
        t.ok(err instanceof ConfigError && err.code === 'HB_CONFIG_INVALID' && err.variable === name, `"${bad}" → HB_CONFIG_INVALID naming ${name}`);
      }
    }
  });
}

t.test('rules across variables', async (t) => {
  const refused = (env: Record<string, string>, variable: string) => {
    try {
      loadConfig(env);
      return false;
    } catch (err) {
      return err instanceof ConfigError && err.variable === variable;
    }
  };
  t.ok(refused({ HALOBUZZ_TYPO: '1' }, 'HALOBUZZ_TYPO'), 'unknown HALOBUZZ_ variables are typos');
  t.ok(refused({ HALOBUZZ_ENV: 'production' }, 'HALOBUZZ_JWT_SECRET'), 'production needs a real secret');
  t.ok(refused({ HALOBUZZ_ENV: 'production', HALOBUZZ_JWT_SECRET: 's'.repeat(32), HALOBUZZ_DEBUG_ENDPOINTS: '1' }, 'HALOBUZZ_DEBUG_ENDPOINTS'), 'no debug routes in production');
  t.ok(refused({ KAFKA_BROKERS: '127.0.0.1:19092' }, 'REDIS_URL'), 'a cluster needs Redis');
  t.ok(refused({ KAFKA_BROKERS: 'not a broker', REDIS_URL: 'redis://x' }, 'KAFKA_BROKERS'));
  t.ok(refused({ HALOBUZZ_ROLE: 'api' }, 'REDIS_URL'), 'an API-only process needs Redis');
  t.ok(refused({ HALOBUZZ_AGORA_APP_ID: 'a'.repeat(32) }, 'HALOBUZZ_AGORA_APP_CERTIFICATE'), 'Agora settings come in pairs');
  t.same([loadConfig({}).api.agoraAppId, loadConfig({}).api.agoraCertificate], [null, null], 'no Agora by default');
  t.ok(refused({ STRIPE_SECRET_KEY: 'sk_test_abc' }, 'STRIPE_WEBHOOK_SECRET'), 'Stripe needs its webhook secret');
  t.ok(refused({ HALOBUZZ_APPLE_BUNDLE_ID: 'com.halobuzz.app', HALOBUZZ_APPLE_ENVIRONMENT: 'Sandbox' }, 'HALOBUZZ_APPLE_ROOT_CERTS'), 'no App Store verification without roots');
  t.ok(refused({ HALOBUZZ_APPLE_BUNDLE_ID: 'com.halobuzz.app', HALOBUZZ_APPLE_ROOT_CERTS: '/tmp/r.pem' }, 'HALOBUZZ_APPLE_APP_ID'), 'Production needs the app id');
  t.ok(refused({ HALOBUZZ_APPLE_ROOT_CERTS: '/tmp/r.pem' }, 'HALOBUZZ_APPLE_ROOT_CERTS'), 'App Store settings need the bundle id');
  t.ok(refused({ HALOBUZZ_GOOGLE_PACKAGE_NAME: 'com.halobuzz.app' }, 'HALOBUZZ_GOOGLE_CREDENTIALS'), 'Google Play needs its credentials');
  t.ok(refused({ HALOBUZZ_DEBUG_CRASH_POINT: 'withdraw:after-hold' }, 'HALOBUZZ_DEBUG_CRASH_POINT'), 'crash injection needs the debug endpoints');
  t.ok(refused({ STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_x' }, 'STRIPE_CONNECT_WEBHOOK_SECRET'), 'Connect needs the Stripe key');
  t.ok(refused({ HALOBUZZ_GOOGLE_CREDENTIALS: '/tmp/sa.json' }, 'HALOBUZZ_GOOGLE_CREDENTIALS'), 'and its package name');
  t.ok(refused({ STRIPE_WEBHOOK_SECRET: 'whsec_abc' }, 'STRIPE_SECRET_KEY'), 'and the other way round');
  t.ok(refused({ STRIPE_SECRET_KEY: 'pk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc' }, 'STRIPE_SECRET_KEY'), 'a publishable key is not a secret key');
  t.ok(refused({ HALOBUZZ_ENV: 'production', HALOBUZZ_JWT_SECRET: 's'.repeat(32), STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc' }, 'STRIPE_SECRET_KEY'), 'no test keys in production');
  t.same([loadConfig({ STRIPE_SECRET_KEY: 'sk_test_abc', STRIPE_WEBHOOK_SECRET: 'whsec_abc' }).payments.stripeSecretKey, loadConfig({}).payments.stripeSecretKey], ['sk_test_abc', null]);
  t.ok(refused({ HALOBUZZ_WORKERS: '4', HALOBUZZ_SHARDS: '2' }, 'HALOBUZZ_SHARDS'), 'at least one shard per worker');
  t.ok(refused({ MONGODB_URL: 'postgres://x' }, 'MONGODB_URL'));
  t.ok(refused({ REDIS_URL: 'http://x' }, 'REDIS_URL'));
  t.ok(refused({ REDIS_URL: 'redis-cluster://a:1,b' }, 'REDIS_URL'), 'a Redis Cluster is named by host:port seeds');
  t.equal(loadConfig({ REDIS_URL: 'redis-cluster://10.0.0.1:6379,10.0.0.2:6379' }).engines.redisUrl, 'redis-cluster://10.0.0.1:6379,10.0.0.2:6379', 'a Redis Cluster URL is accepted');
  t.ok(refused({ CLICKHOUSE_URL: 'tcp://x' }, 'CLICKHOUSE_URL'));
  t.ok(Object.isFrozen(loadConfig({})) && Object.isFrozen(loadConfig({}).limits), 'the config is frozen');
});
