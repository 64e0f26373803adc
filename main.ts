/**
 * Process entry point: read the configuration once, start the realtime server, and shut down in order on
 * SIGTERM/SIGINT (stop accepting, drain actors, close clients with "going away, reconnect").
 */
import pino from 'pino';
import { ConfigError, loadConfig } from './config/config';
import { join } from 'node:path';
import { RealtimeServer } from './core/server';
import { buildApi } from './api/app';
import { AuthService } from './api/auth-service';
import { SqliteAccountStore } from './adapters/accounts/account-store-sqlite';
import { SqliteRoomDirectory } from './adapters/accounts/room-directory-sqlite';
import { AgoraTokenIssuer } from './adapters/media/media-token-issuer';
import Redis from 'ioredis';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.code}: ${err.message}`);
      process.exit(78);
    }
    throw err;
  }
  const log = pino({ level: config.logLevel, base: { node: config.nodeId } });
  if (config.auth.usingDevSecret) log.warn('HALOBUZZ_JWT_SECRET is not set: using the development secret (never do this in production)');
  const server = new RealtimeServer(config, log);
  const port = await server.start();
  log.info({ event: 'listening', host: config.host, port, workers: config.actors.workers, dataDir: config.dataDir },
    `HaloBuzz realtime listening on ws://${config.host}:${port}/ws (metrics: http://${config.host}:${port}/metrics)`);

  const accounts = new SqliteAccountStore(join(config.dataDir, 'accounts.sqlite'));
  // Sessions revoked while their access tokens may still be valid survive a restart.
  for (const sid of await accounts.revokedSince(Date.now() - config.api.accessTtlSec * 1000 - 60_000)) server.revocations.add(sid);
  const auth = new AuthService(accounts, {
    secret: config.auth.jwtSecret, issuer: config.auth.jwtIssuer, audience: config.auth.jwtAudience,
    accessTtlSec: config.api.accessTtlSec, refreshTtlSec: config.api.refreshTtlSec,
  }, (sids) => server.revoke(sids), (sid) => server.revocations.has(sid));
  const rooms = new SqliteRoomDirectory(join(config.dataDir, 'rooms.sqlite'));
  let redis: Redis | undefined;
  if (config.engines.redisUrl) {
    // Configured means required: an unreachable Redis stops the start instead of silently not limiting.
    redis = new Redis(config.engines.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 5000 });
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      throw new Error(`REDIS_URL is set but Redis does not answer (${config.engines.redisUrl}): ${(err as Error).message}`);
    }
  }
  const ledger = server.ledgerHandle;
  const ready = async () => {
    if (!server.ready) return false;
    const within = <T>(p: Promise<T>) => Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000))]);
    try {
      await within(ledger.balance('user:__readiness__'));
      if (redis) await within(redis.ping());
      return true;
    } catch {
      return false;
    }
  };
  const api = await buildApi({
    auth, ledger, catalog: server.catalog, metrics: server.metrics, ready,
    rooms, realtime: server.liveRooms(), accounts,
    media: config.api.agoraAppId && config.api.agoraCertificate ? new AgoraTokenIssuer(config.api.agoraAppId, config.api.agoraCertificate, config.api.mediaTokenTtlSec) : null,
    settings: {
      bodyLimitBytes: config.api.bodyLimitBytes, corsOrigins: config.api.corsOrigins, rateLimitPerMinute: config.api.rateLimitPerMinute,
      ...(redis ? { rateLimitRedis: redis } : {}),
    },
    log: log.child({ component: 'api' }),
  });
  await api.listen({ host: config.host, port: config.api.port });
  const apiPort = (api.server.address() as { port: number }).port;
  log.info({ event: 'api-listening', port: apiPort }, `HTTP API on http://${config.host}:${apiPort} (OpenAPI: http://${config.host}:${apiPort}/docs)`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    api.close().then(() => server.shutdown()).then(() => Promise.all([accounts.close(), rooms.close(), redis?.quit()])).then(() => {
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
