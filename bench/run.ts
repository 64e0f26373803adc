/**
 * `npm run bench -- <scenario> [--quick] [--workers N] [--key value ...]`
 *
 * Scenarios connect, fanout, rooms and slow run HaloBuzz and the Socket.IO + Redis baseline (and, for
 * fanout, the raw uWS ceiling) back to back on this machine and report ratios; gifts measures the ledger
 * path on each store; api runs autocannon against sign-in and room discovery; fuzz sends a million mutated
 * frames and checks the server survives them with only documented answers. Every run prints a table, writes bench/results/<scenario>-<time>.json and an .svg
 * chart. Parameters override the scenario's defaults, e.g. `--viewers 5000 --rate 200`.
 */
import { compare, scenarios, type Comparison, type Scenario } from './scenarios';
import { STANDALONE } from './catalog';
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
