/**
 * `npm run bench -- <scenario> [--quick] [--workers N] [--key value ...]`
 *
 * Scenarios connect, fanout, rooms and slow run HaloBuzz and the Socket.IO + Redis baseline (and, for
 * fanout, the raw uWS ceiling) back to back on this machine and report ratios; gifts measures the ledger
 * path on each store; api runs autocannon against sign-in and room discovery; fuzz sends a million mutated
 * frames and checks the server survives them with only documented answers. Every run prints a table, writes bench/results/<scenario>-<time>.json and an .svg
 * chart. Parameters override the scenario's defaults, e.g. `--viewers 5000 --rate 200`.
 */
import { clusterDefaults, clusterQuick, runCluster, type ClusterParams } from './cluster.bench';
import { compare, scenarios, type Comparison, type Scenario } from './scenarios';
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
import { writeResult } from './results';
import { lineChart } from './svg-chart';

function parseParams<T extends object>(defaults: T, args: string[]): T {
  const out = { ...defaults } as Record<string, number>;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--') || a === '--quick' || a === '--workers') {
      if (a === '--workers') i++;
      continue;
    }
    const key = a.slice(2);
    if (!(key in out)) throw new Error(`unknown parameter --${key}; known: ${Object.keys(out).join(', ')}`);
    const value = Number(args[++i]);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key} needs a number`);
    out[key] = value;
  }
  return out as T;
}

function report(c: Comparison): void {
  const keys = [...new Set(c.results.flatMap((r) => Object.keys(r.metrics)))];
  const rows = [['metric', ...c.results.map((r) => r.label)], ...keys.map((k) => [k, ...c.results.map((r) => String(r.metrics[k] ?? ''))])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  console.log(`\n${c.scenario} ${JSON.stringify(c.params)}`);
  for (const r of rows) console.log(r.map((cell, i) => cell.padEnd(widths[i]!)).join('  '));
  console.log(`ratios (HaloBuzz ÷ other): ${JSON.stringify(c.ratios)}`);
  if (c.generatorBound.length > 0) console.log(`GENERATOR-BOUND, throughput ratios invalid (CPU per delivery still holds): ${c.generatorBound.join('; ')}`);
  const svg = c.latencies.length > 0
    ? lineChart({ title: `${c.scenario}: send → receive latency`, xLabel: 'latency (ms, log)', yLabel: '% of deliveries', logX: true, series: c.latencies.map((l) => ({ name: l.name, points: l.latency.cdf(200) })) })
    : undefined;
  const { latencies: _l, ...json } = c;
  console.log(`results: ${writeResult(c.scenario, json, svg).join(', ')}`);
}

/** Scenarios that run their own targets (not compared by `compare`): defaults, --quick sizes, and the run. */
interface Standalone { defaults: object; quick: object; run(params: object): Promise<unknown> }
const standalone = <P extends object>(defaults: P, quick: P, run: (p: P) => Promise<unknown>): Standalone => ({ defaults, quick, run: run as (p: object) => Promise<unknown> });
const STANDALONE: Record<string, Standalone> = {
  analytics: standalone<AnalyticsParams>(analyticsDefaults, analyticsQuick, (p) => runAnalytics(p, process.env.CLICKHOUSE_URL)),
  api: standalone<ApiParams>(apiDefaults, apiQuick, runApi),
  capacity: standalone<CapacityParams>(capacityDefaults, capacityQuick, runCapacity),
  cluster: standalone<ClusterParams>(clusterDefaults, clusterQuick, (p) => runCluster(p, process.env)),
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
};

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const quick = rest.includes('--quick');
  const workersAt = rest.indexOf('--workers');
  const workers = workersAt >= 0 ? Number(rest[workersAt + 1]) : 2;
  const own = STANDALONE[name ?? ''];
  if (own) {
    const params = parseParams(quick ? own.quick : own.defaults, rest) as Record<string, number>;
    // `--workers` is every scenario's; a standalone one that starts HaloBuzz itself takes it as a parameter.
    if ('workers' in params && workersAt >= 0) params.workers = workers;
    await own.run(params);
    return;
  }
  const scenario = (scenarios as Record<string, Scenario<object>>)[name ?? ''];
  if (!scenario) {
    console.error(`usage: npm run bench -- <${[...Object.keys(scenarios), ...Object.keys(STANDALONE)].join('|')}> [--quick] [--workers N] [--param value ...]`);
    process.exit(64);
  }
  if (!process.env.REDIS_URL) console.error('REDIS_URL is not set: the Socket.IO baseline runs without its Redis adapter (deploy/local/services up redis)');
  report(await compare(scenario, parseParams(quick ? scenario.quick : scenario.defaults, rest), workers));
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
