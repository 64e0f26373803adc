/**
 * Every scenario `npm run bench` knows: the compared ones (bench/scenarios.ts) and those that run their own
 * targets, with their defaults and --quick sizes. `npm run bench:report` reads the same table.
 */
import { clusterDefaults, clusterQuick, runCluster, type ClusterParams } from './cluster.bench';
import { giftDefaults, giftQuick, runGifts, type GiftParams } from './gifts.bench';
import { ledgerDefaults, ledgerQuick, runLedger, type LedgerParams } from './ledger.bench';
import { apiDefaults, apiQuick, runApi, type ApiParams } from './api.bench';
import { analyticsDefaults, analyticsQuick, runAnalytics, type AnalyticsParams } from './analytics.bench';
import { fuzzDefaults, fuzzQuick, runFuzz, type FuzzParams } from './fuzz.bench';
import { purchasesDefaults, purchasesQuick, runPurchases, type PurchasesParams } from './purchases.bench';
import { gamesDefaults, gamesQuick, runGames, type GamesParams } from './games.bench';
import { notificationsDefaults, notificationsQuick, runNotifications, type NotificationsParams } from './notifications.bench';
import { moderationDefaults, moderationQuick, runModeration, type ModerationParams } from './moderation.bench';
import { privacyDefaults, privacyQuick, runPrivacy, type PrivacyParams } from './privacy.bench';
import { codecDefaults, codecQuick, runCodec, type CodecParams } from './codec.bench';
import { capacityDefaults, capacityQuick, runCapacity, type CapacityParams } from './capacity.bench';
import { writeDelayDefaults, writeDelayQuick, runWriteDelay, type WriteDelayParams } from './write-delay.bench';
import { scaleDefaults, scaleQuick, runScale, type ScaleParams } from './scale-model';
import { failoverDefaults, failoverQuick, runFailover, type FailoverParams } from './failover.bench';

/** Scenarios that run their own targets (not compared by `compare`): defaults, --quick sizes, and the run. */
export interface Standalone { defaults: object; quick: object; run(params: object): Promise<unknown> }
const standalone = <P extends object>(defaults: P, quick: P, run: (p: P) => Promise<unknown>): Standalone => ({ defaults, quick, run: run as (p: object) => Promise<unknown> });
export const STANDALONE: Record<string, Standalone> = {
  analytics: standalone<AnalyticsParams>(analyticsDefaults, analyticsQuick, (p) => runAnalytics(p, process.env.CLICKHOUSE_URL)),
  api: standalone<ApiParams>(apiDefaults, apiQuick, runApi),
  capacity: standalone<CapacityParams>(capacityDefaults, capacityQuick, runCapacity),
  cluster: standalone<ClusterParams>(clusterDefaults, clusterQuick, (p) => runCluster(p, process.env)),
  failover: standalone<FailoverParams>(failoverDefaults, failoverQuick, (p) => runFailover(p, process.env)),
  fuzz: standalone<FuzzParams>(fuzzDefaults, fuzzQuick, runFuzz),
  games: standalone<GamesParams>(gamesDefaults, gamesQuick, runGames),
  notifications: standalone<NotificationsParams>(notificationsDefaults, notificationsQuick, runNotifications),
  moderation: standalone<ModerationParams>(moderationDefaults, moderationQuick, runModeration),
  codec: standalone<CodecParams>(codecDefaults, codecQuick, runCodec),
  privacy: standalone<PrivacyParams>(privacyDefaults, privacyQuick, runPrivacy),
  purchases: standalone<PurchasesParams>(purchasesDefaults, purchasesQuick, (p) => runPurchases(p, process.env.STRIPE_MOCK_URL, process.env.BENCH_MONGODB_URL)),
  gifts: standalone<GiftParams>(giftDefaults, giftQuick, (p) => runGifts(p, process.env.MONGODB_URL)),
  ledger: standalone<LedgerParams>(ledgerDefaults, ledgerQuick, (p) => runLedger(p, process.env.MONGODB_URL)),
  'write-delay': standalone<WriteDelayParams>(writeDelayDefaults, writeDelayQuick, runWriteDelay),
  scale: standalone<ScaleParams>(scaleDefaults, scaleQuick, runScale),
};

