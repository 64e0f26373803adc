/**
 * Process entry point: read the configuration once, start the realtime server, and shut down in order on
 * SIGTERM/SIGINT (stop accepting, drain actors, close clients with "going away, reconnect").
 */
import pino from 'pino';
import { ConfigError, loadConfig } from './config/config';
import { RealtimeServer } from './core/server';

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

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    server.shutdown().then(() => {
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
