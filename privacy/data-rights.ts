/**
 * Wires the data subject rights (docs/privacy.md) into a running API: the list of stores holding personal
 * data, the export service (its archives built in a Piscina pool) and the erasure service, and the timer
 * that erases accounts whose grace period is over and deletes expired archives.
 */
import { join } from 'node:path';
import Piscina from 'piscina';
import type { Logger } from 'pino';
import type { Config } from '../config/config';
import type { ApiEngines } from '../engines';
import type { Ledger } from '../adapters/ledger/ledger';
import type { PlayStore } from '../adapters/games/play-store';
import { ClickHousePersonalData } from '../adapters/analytics/clickhouse-personal-data';
import { NdjsonPersonalData } from '../adapters/analytics/ndjson-personal-data';
import type { PersonalData } from '../adapters/privacy/personal-data';
import { openExportStore } from '../adapters/privacy/open-export-store';
import type { CoreMetrics } from '../core/metrics';
import { holder, realtimeData, walletData, type PersonalDataHolder } from './data-holders';
import { ErasureService } from './erasure-service';
import { ExportService } from './export-service';
import type { ArchiveTask } from './export-archive-worker';

/** The stores other than the account, in erasure order (docs/privacy.md has a row for each). */
export function personalDataHolders(engines: ApiEngines, ledger: Ledger, games: PlayStore | null, analytics: { data: PersonalData; where: string }): PersonalDataHolder[] {
  return [
    holder('social', 'who you follow and who follows you', engines.follows),
    holder('rooms', 'the rooms you hosted', engines.rooms),
    holder('messages', 'room events you sent (chat, gifts, moderation) and your direct messages, both ways', realtimeData(engines.owners.realtimeStore)),
    holder('notifications', 'your notifications, notification settings and push devices', engines.notifications),
    holder('moderation', 'reports you filed, moderation actions by or on you, suspensions, devices seen', engines.moderation),
    holder('consents', 'every consent choice you made, with its time and version', engines.consents),
    ...(games ? [holder('games', 'game limits, self-exclusion, results and duel pairs (stakes are in wallet.json)', games)] : []),
    holder('purchases', 'coin purchases and their status', engines.purchases),
    holder('payouts', 'your payout account and withdrawals', engines.payouts),
    holder('wallet', 'your coin balance and every movement of it', walletData(ledger)),
    holder('analytics', `product analytics events about your activity (${analytics.where})`, analytics.data),
  ];
}

export interface DataRights {
  readonly exports: ExportService;
  readonly erasure: ErasureService;
  stop(): Promise<void>;
}

export async function startDataRights(config: Config, log: Logger, metrics: CoreMetrics, x: {
  engines: ApiEngines;
  ledger: Ledger;
  games: PlayStore | null;
  revoke: (sids: readonly string[]) => void;
  analyticsPaused: (user: string, paused: boolean) => void;
  now: () => number;
}): Promise<DataRights> {
  const { engines } = x;
  const analytics = config.engines.clickhouseUrl ? new ClickHousePersonalData(config.engines.clickhouseUrl, config.engines.clickhouseDatabase) : null;
  const holders = personalDataHolders(engines, x.ledger, x.games, analytics
    ? { data: analytics, where: 'ClickHouse' }
    : { data: new NdjsonPersonalData(join(config.dataDir, 'analytics')), where: 'the NDJSON event files' });
  const account = holder('account', 'your account, profile, sign-in sessions, blocks and security log', engines.accounts);
  const jobs = await openExportStore({ mongodbUrl: config.engines.mongodbUrl, dataDir: config.dataDir });
  const pool = new Piscina<ArchiveTask, number>({ filename: join(__dirname, 'export-archive-worker.js'), maxThreads: 1, idleTimeout: 30_000 });
  const count = (outcome: string) => metrics.dataRights.labels(outcome).inc();
  const dr = config.dataRights;
  const exports = new ExportService({
    jobs, holders: [account, ...holders], build: (task) => pool.run(task), now: x.now, count,
    settings: { dir: join(config.dataDir, 'exports'), linkTtlMs: dr.exportLinkTtlSec * 1000, windowMs: dr.exportWindowSec * 1000, secret: `${config.auth.jwtSecret}:exports` },
    onError: (err, job) => {
      metrics.backgroundErrors.labels('export').inc();
      log.error({ err, export: job.id }, 'an export failed');
    },
  });
  const erasure = new ErasureService({
    accounts: engines.accounts, holders, account, revoke: x.revoke, analyticsPaused: x.analyticsPaused, exports, graceMs: dr.erasureGraceSec * 1000, now: x.now, count,
    endLiveRoom: async (user) => {
      const live = await engines.rooms.liveRoomOf(user);
      if (live) await engines.rooms.end(live.id, user, x.now());
    },
    onErased: (pseudonym, counts) => {
      count('erased');
      log.info({ event: 'account-erased', pseudonym, counts }, 'an account was erased');
    },
    onError: (err) => {
      metrics.backgroundErrors.labels('erasure').inc();
      log.error({ err }, 'an erasure failed; retried on the next sweep');
    },
  });
  const resumed = await exports.resume();
  if (resumed > 0) log.warn({ exports: resumed }, 'resumed exports a stopped process left pending');
  const timer = setInterval(() => {
    erasure.sweep().catch((err) => {
      metrics.backgroundErrors.labels('erasure').inc();
      log.error({ err }, 'could not look for due erasures');
    });
    exports.sweep().catch((err) => log.error({ err }, 'could not delete expired exports'));
    // Shared store: a job whose process died before running it is picked up here (one runs it at a time).
    exports.resume().catch((err) => log.error({ err }, 'could not look for pending exports'));
  }, dr.sweepMs);
  timer.unref();
  return {
    exports, erasure,
    stop: async () => {
      clearInterval(timer);
      await exports.idle();
      await pool.destroy();
      await jobs.close();
      await analytics?.close();
    },
  };
}
