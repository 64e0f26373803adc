/**
 * `npm run bench:report`: regenerates the results table in bench/README.md (between the `results:begin`
 * and `results:end` markers) and its charts under bench/charts/, from the newest full-size run of each
 * scenario in bench/results/. A --quick run is used only when a scenario has no full-size run, and the
 * table says so. Each row names its run (time, Node version), so a table is never older than it claims.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scenarios } from './scenarios';
import { STANDALONE } from './catalog';

export interface RunFile {
  readonly scenario: string;
  /** The JSON's file name without extension; its chart, if any, is the same name with .svg. */
  readonly name: string;
  readonly json: Record<string, unknown>;
}

type Json = Record<string, unknown>;
const num = (v: unknown) => (typeof v === 'number' ? v : NaN);
const fmt = (v: unknown, digits = 0): string => {
  const n = num(v);
  if (Number.isNaN(n)) return '–';
  return n.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
};
const list = (v: unknown): Json[] => (Array.isArray(v) ? (v as Json[]) : []);
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

/** One line per target or store of a run: what was measured, in words a reader can compare. */
export function summarise(run: RunFile): string[] {
  const j = run.json;
  switch (run.scenario) {
    case 'connect':
      return list(j.results).map((r) => {
        const m = obj(r.metrics);
        return `${r.label}: ${fmt(m.connectPerSecond)} connects/s, ${fmt(num(m.rssBytesPerConnection) / 1024, 1)} KB RSS per idle connection`;
      });
    case 'memory':
      return list(j.results).map((r) => {
        const m = obj(r.metrics);
        return `${String(r.label)}: ${fmt(num(m.idleBytesPerConnection) / 1024, 2)} KB per idle connection, ${fmt(num(m.subscribedBytesPerConnection) / 1024, 2)} KB per subscribed one (RSS after collection, ${fmt(m.connections)} connections; the empty server ${fmt(num(m.baselineRssBytes) / 2 ** 20)} MB)`;
      });
    case 'fanout':
    case 'routing':
    case 'rooms':
    case 'slow':
      return list(j.results).map((r) => {
        const m = obj(r.metrics);
        const has = (k: string) => !Number.isNaN(num(m[k]));
        return `${String(r.label)}: ${[
          has('deliveredPerSecond') ? `${fmt(m.deliveredPerSecond)} delivered/s` : '',
          has('p99') ? `p50 / p99 ${fmt(m.p50, 1)} / ${fmt(m.p99, 1)} ms` : '',
          has('serverCpuMsPer1kDeliveries') ? `server CPU ${fmt(m.serverCpuMsPer1kDeliveries, 2)} µs/delivery${has('serverUserCpuUsPerDelivery') ? ` (user space ${fmt(m.serverUserCpuUsPerDelivery, 2)})` : ''}` : '',
          has('rssBytesPerConnection') ? `${fmt(num(m.rssBytesPerConnection) / 1024, 1)} KB RSS per connection` : '',
        ].filter(Boolean).join(', ')}`;
      });
    case 'capacity':
      return list(j.results).map((r) => `${r.label}: capacity ${fmt(r.capacity)} deliveries/s (stopped by ${String(r.ended)})`);
    case 'write-delay':
      return list(j.rows).map((r) => `delay ${fmt(r.delayMs)} ms: ${fmt(r.serverCpuUsPerDelivery, 2)} µs/delivery (×${fmt(r.cpuVsNoDelay, 2)}), p99 ${fmt(r.p99, 1)} ms`);
    case 'gifts':
      return list(j.runs).map((r) => `${String(r.store)}: ${fmt(r.giftsPerSecond)} gifts/s, gift → broadcast p50 / p99 ${fmt(obj(r.latencyMs).p50, 1)} / ${fmt(obj(r.latencyMs).p99, 1)} ms, conserved: ${String(r.conserved)}`);
    case 'ledger':
      return list(j.runs).map((r) => `${String(r.store)}: ${list(r.steps).map((s) => `${fmt(s.existingPostingsAtLeast)} postings → ${fmt(s.giftsPerSecond)} gifts/s (p99 ${fmt(obj(s.latencyMs).p99, 1)} ms; cold balance ${fmt(s.coldBalanceMs)} ms, room rebuild ${fmt(s.roomRebuildMs)} ms)`).join('; ')}`);
    case 'cluster':
      return list(j.runs).map((r) => `${String(r.setup)}: ${fmt(r.giftsPerSecond)} gifts/s, ${fmt(r.deliveriesPerSecond)} deliveries/s, p99 ${fmt(obj(r.latencyMs).p99, 1)} ms (×${fmt(r.giftsVsSingle, 2)} of single)`);
    case 'failover': {
      const s = obj(j.summary);
      const span = (k: string) => `p50 ${fmt(num(obj(s[k]).p50) / 1000, 2)} s, max ${fmt(num(obj(s[k]).max) / 1000, 2)} s`;
      return [`${list(j.rounds).length} SIGKILLs of a room's owner: room silent ${span('roomSilentMs')}; gifts in flight answered ${span('giftsSettledMs')}; the dead node's viewer resumed ${span('movedResumedMs')}`];
    }
    default: {
      // Anything else: its top-level numbers, and those one level down, as they are named.
      const out: string[] = [];
      for (const [k, v] of Object.entries(j)) {
        if (k === 'params' || k === 'at' || k === 'node' || k === 'scenario') continue;
        if (typeof v === 'number') out.push(`${k} ${fmt(v, 2)}`);
        else for (const [k2, v2] of Object.entries(obj(v))) if (typeof v2 === 'number') out.push(`${k}.${k2} ${fmt(v2, 2)}`);
      }
      return out.length > 0 ? [out.slice(0, 8).join(', ')] : ['(see the JSON)'];
    }
  }
}

/** The ratios a run computed (HaloBuzz ÷ other), if any. */
function ratios(run: RunFile): string {
  const r = obj(run.json.ratios);
  const keys = Object.keys(r);
  if (keys.length === 0) return '';
  return keys.map((k) => `${k} ${fmt(r[k], 2)}`).join(', ');
}

const sameParams = (a: unknown, b: object) => Object.entries(b).every(([k, v]) => obj(a)[k] === v);

/** A run picked for the table; `differs` names the parameters it ran with that are not the defaults. */
export interface Picked {
  readonly run: RunFile;
  readonly fullSize: boolean;
  readonly differs?: readonly string[];
}

/** The newest run of each scenario, preferring one with the scenario's default parameters. */
export function pickRuns(files: readonly RunFile[], defaults: Readonly<Record<string, object>>): Picked[] {
  const out: Picked[] = [];
  for (const scenario of Object.keys(defaults)) {
    const runs = files.filter((f) => f.scenario === scenario).sort((a, b) => String(b.json.at).localeCompare(String(a.json.at)));
    const full = runs.find((r) => sameParams(r.json.params, defaults[scenario]!));
    if (full) out.push({ run: full, fullSize: true });
    else if (runs[0]) {
      const params = obj(runs[0].json.params);
      const differs = Object.entries(defaults[scenario]!).filter(([k, v]) => params[k] !== v).map(([k]) => `${k} ${k in params ? String(params[k]) : '(not set)'}`);
      out.push({ run: runs[0], fullSize: false, differs });
    }
  }
  return out;
}

export function renderTable(picked: readonly Picked[], chartOf: (run: RunFile) => string | null): string {
  const lines = [
    '| scenario | run | measured | ratios (HaloBuzz ÷ other) | chart |',
    '|---|---|---|---|---|',
  ];
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  for (const { run, fullSize, differs } of picked) {
    const chart = chartOf(run);
    const bound = list(run.json.generatorBound).length > 0 ? ' **generator-bound**: throughput ratios invalid' : '';
    lines.push(`| ${run.scenario}${fullSize ? '' : ` (not the default size: ${(differs ?? []).join(', ') || 'other parameters'})`} | ${String(run.json.at).slice(0, 16).replace('T', ' ')} UTC, Node ${String(run.json.node ?? '?')} | ${cell(summarise(run).join('<br>'))}${bound} | ${cell(ratios(run))} | ${chart ? `[svg](${chart})` : ''} |`);
  }
  return lines.join('\n');
}

const BEGIN = '<!-- results:begin (npm run bench:report rewrites this table) -->';
const END = '<!-- results:end -->';

/** Replaces what lies between the markers; appends the markers and table if the file has none. */
export function replaceBetweenMarkers(readme: string, table: string): string {
  const block = `${BEGIN}\n${table}\n${END}`;
  const from = readme.indexOf(BEGIN);
  const to = readme.indexOf(END);
  if (from < 0 || to < from) return `${readme.trimEnd()}\n\n${block}\n`;
  return readme.slice(0, from) + block + readme.slice(to + END.length);
}

export function readRuns(dir: string): RunFile[] {
  if (!existsSync(dir)) return [];
  const out: RunFile[] = [];
  for (const file of readdirSync(dir)) {
    const m = /^([a-z-]+)-\d{4}-\d\d-\d\dT[\d-]+Z\.json$/.exec(file);
    if (!m) continue;
    try {
      out.push({ scenario: m[1]!, name: file.slice(0, -'.json'.length), json: JSON.parse(readFileSync(join(dir, file), 'utf8')) as Json });
    } catch {
      console.error(`skipped ${file}: not JSON`);
    }
  }
  return out;
}

function main(): void {
  const benchDir = join(__dirname, '..', '..', 'bench');
  const resultsDir = join(benchDir, 'results');
  const chartsDir = join(benchDir, 'charts');
  const defaults: Record<string, object> = {};
  for (const [name, s] of Object.entries(scenarios)) defaults[name] = s.defaults;
  for (const [name, s] of Object.entries(STANDALONE)) defaults[name] = s.defaults;
  const picked = pickRuns(readRuns(resultsDir), defaults);
  mkdirSync(chartsDir, { recursive: true });
  const table = renderTable(picked, (run) => {
    const svg = join(resultsDir, `${run.name}.svg`);
    if (!existsSync(svg)) return null;
    copyFileSync(svg, join(chartsDir, `${run.scenario}.svg`));
    return `charts/${run.scenario}.svg`;
  });
  const readmePath = join(benchDir, 'README.md');
  writeFileSync(readmePath, replaceBetweenMarkers(readFileSync(readmePath, 'utf8'), table));
  const missing = Object.keys(defaults).filter((s) => !picked.some((p) => p.run.scenario === s));
  console.log(`bench/README.md: ${picked.length} scenarios (${picked.filter((p) => !p.fullSize).length} not at their default size)${missing.length > 0 ? `; no run yet: ${missing.join(', ')}` : ''}; charts in bench/charts/`);
}

if (require.main === module) main();
