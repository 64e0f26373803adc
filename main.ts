/**
 * Process entry point and composition root. HALOBUZZ_ROLE picks what runs here: the socket core and the
 * HTTP API together (all, the default), the socket core alone (realtime), or the API alone (api, which
 * reaches the socket nodes through Redis). Shutdown is ordered on SIGTERM/SIGINT: stop the API, stop
 * accepting sockets, drain the actors, close clients with "going away, reconnect".
 */
import { join } from 'node:path';
import { createLogger, logSettings } from './common/logger';
import { ConfigError, loadConfig, type Config } from './config/config';
import { TransportError } from './core/transport/select-transport';
import { RealtimeServer } from './core/server';
import { Revocations } from './core/auth/revocations';
import { buildApi } from './api/app';
import { AuthService } from './api/auth-service';
import { SqliteAccountStore } from './adapters/accounts/account-store-sqlite';
import { SqliteRoomDirectory } from './adapters/accounts/room-directory-sqlite';
import { AgoraTokenIssuer } from './adapters/media/media-token-issuer';
import { RedisBridge } from './adapters/presence/redis-bridge';
import type { RealtimeBridge } from './adapters/presence/realtime-bridge';
import { RoomOwnerRecorder } from './adapters/store/claim-room-owner';
import { realtimeStoreSettings } from './adapters/store/open-realtime-store';
import { openLedger } from './adapters/ledger/open-ledger';
import { GiftCatalog } from './actors/gift-catalog';
import type { Ledger } from './adapters/ledger/ledger';
import type { Logger } from 'pino';
import { createClient } from '@clickhouse/client';
import type { AnalyticsReader } from './api/plugins/analytics';

type Stop = () => Promise<unknown>;

async function connectRedis(config: Config): Promise<RedisBridge | null> {
  if (!config.engines.redisUrl) return null;
  try {
    return await RedisBridge.connect(config.engines.redisUrl);
  } catch (err) {
    // Configured means required: no silent fallback to single-node behaviour.
    throw new Error(`REDIS_URL is set but Redis does not answer (${config.engines.redisUrl}): ${(err as Error).message}`);
  }
}

async function startApi(config: Config, log: Logger, deps: {
  bridge: RealtimeBridge; revocations: Revocations; ledger: Ledger; catalog: GiftCatalog; metrics: RealtimeServer['metrics'];
  realtimeReady: () => boolean; redis: RedisBridge | null;
}): Promise<Stop> {
  const accounts = new SqliteAccountStore(join(config.dataDir, 'accounts.sqlite'));
  const rooms = new SqliteRoomDirectory(join(config.dataDir, 'rooms.sqlite'));
  const owners = await RoomOwnerRecorder.open(realtimeStoreSettings(config));
  // Sessions revoked while their access tokens may still be valid survive a restart.
  const horizon = Date.now() - config.api.accessTtlSec * 1000 - 60_000;
  for (const sid of await accounts.revokedSince(horizon)) deps.revocations.add(sid);
  const auth = new AuthService(accounts, {
    secret: config.auth.jwtSecret, issuer: config.auth.jwtIssuer, audience: config.auth.jwtAudience,
    accessTtlSec: config.api.accessTtlSec, refreshTtlSec: config.api.refreshTtlSec,
  }, (sids) => {
    for (const sid of sids) deps.revocations.add(sid);
    deps.bridge.revokeSessions(sids).catch((err) => log.error({ err }, 'could not deliver a session revocation'));
  }, (sid) => deps.revocations.has(sid));
  const clickhouse = config.engines.clickhouseUrl ? createClient({ url: config.engines.clickhouseUrl, database: config.engines.clickhouseDatabase, request_timeout: 30_000 }) : null;
  const analytics: AnalyticsReader | null = clickhouse ? {
    rows: async (sql) => (await (await clickhouse.query({ query: sql, format: 'JSONEachRow' })).json()) as Record<string, unknown>[],
  } : null;
  const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
  const api = await buildApi({
    auth, ledger: deps.ledger, catalog: deps.catalog, metrics: deps.metrics, rooms, accounts, analytics,
    realtime: {
      viewerCounts: (list) => deps.bridge.viewerCounts(list),
      claimOwner: (room, owner) => owners.record(room, owner),
      endStream: (room, owner) => deps.bridge.endStream(room, owner),
    },
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
  await api.listen({ host: config.host, port: config.api.port });
  const port = (api.server.address() as { port: number }).port;
  log.info({ event: 'api-listening', port }, `HTTP API on http://${config.host}:${port} (OpenAPI: http://${config.host}:${port}/docs)`);
  return async () => {
    await api.close();
    await Promise.all([accounts.close(), rooms.close(), owners.close(), clickhouse?.close()]);
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
  const redis = await connectRedis(config);
  const stops: Stop[] = [];

  if (config.role === 'api') {
    // The API alone: its own ledger handle and catalog; socket nodes are reached through Redis.
    const ledger = await openLedger({ mongodbUrl: config.engines.mongodbUrl, dataDir: config.dataDir, leaseMs: config.economy.ledgerLeaseMs });
    const { CoreMetrics } = await import('./core/metrics');
    stops.push(await startApi(config, log, {
      bridge: redis!, revocations: new Revocations(config.api.accessTtlSec * 1000 + 60_000), ledger,
      catalog: GiftCatalog.fromFile(config.economy.giftCatalogFile), metrics: new CoreMetrics(), realtimeReady: () => true, redis,
    }));
    stops.push(() => ledger.close());
  } else {
    let server: RealtimeServer;
    try {
      server = new RealtimeServer(config, log, { logging });
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
      });
    }
    if (config.role === 'all') {
      const node = server.node();
      // With Redis the bridge reaches every socket node (this one included); without it, only this one.
      const local: RealtimeBridge = {
        viewerCounts: async (list) => new Map(list.map((r) => [r, node.viewers(r)])),
        revokeSessions: async (sids) => node.revoke(sids),
        endStream: async (room, owner) => node.endStream(room, owner),
      };
      stops.push(await startApi(config, log, {
        bridge: redis ?? local, revocations: server.revocations, ledger: server.ledgerHandle, catalog: server.catalog,
        metrics: server.metrics, realtimeReady: () => server.ready, redis,
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
