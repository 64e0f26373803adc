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
  const api = await buildApi({
    auth, ledger: server.ledgerHandle, catalog: server.catalog, metrics: server.metrics, ready: () => server.ready,
    rooms, realtime: server.liveRooms(), accounts,
    media: config.api.agoraAppId && config.api.agoraCertificate ? new AgoraTokenIssuer(config.api.agoraAppId, config.api.agoraCertificate, config.api.mediaTokenTtlSec) : null,
    settings: { bodyLimitBytes: config.api.bodyLimitBytes, corsOrigins: config.api.corsOrigins, rateLimitPerMinute: config.api.rateLimitPerMinute },
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
    api.close().then(() => server.shutdown()).then(() => Promise.all([accounts.close(), rooms.close()])).then(() => {
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
