/**
 * `npm run profile -- <scenario> [--tool cpu|heap|clinic-doctor|clinic-flame] [--quick]`: runs the
 * HaloBuzz server under a profiler, drives it with one scenario, stops it with SIGINT and leaves the
 * profile under bench/results/profile-<tool>-<time>/.
 *
 * - cpu (default): V8's sampling profiler (`node --cpu-prof`), one .cpuprofile per thread (main thread
 *   and each actor worker); open it in Chrome DevTools (Performance → load) or speedscope as a flame chart.
 * - heap: `node --heap-prof`, allocation sampling per thread (DevTools Memory tab).
 * - clinic-doctor / clinic-flame: Clinic.js, fetched by npx at a pinned version. On this project's
 *   machines (Node 20.20, npm 11) clinic 13 exits without starting the program, so cpu/heap are the
 *   default; bench/README.md says how to read each.
 */
import { join } from 'node:path';
import { mkdirSync, readdirSync } from 'node:fs';
import { scenarios, type Scenario } from './scenarios';
import { HALOBUZZ_BENCH_ENV, type Target } from './targets';
import { startServer } from '../tools/server-process';
import { topSelfTime } from './cpu-profile-summary';

const CLINIC = 'clinic@13.0.0';

function launcherFor(tool: string, dest: string): string[] | null {
  switch (tool) {
    case 'cpu':
      return [process.execPath, '--cpu-prof', `--cpu-prof-dir=${dest}`];
    case 'heap':
      return [process.execPath, '--heap-prof', `--heap-prof-dir=${dest}`];
    case 'clinic-doctor':
    case 'clinic-flame':
      return ['npx', '--yes', CLINIC, tool.slice('clinic-'.length), '--open=false', '--dest', dest, '--', process.execPath];
    default:
      return null;
  }
}

async function main(): Promise<void> {
  const [name, ...rest] = process.argv.slice(2);
  const scenario = (scenarios as Record<string, Scenario<object>>)[name ?? ''];
  const toolAt = rest.indexOf('--tool');
  const tool = toolAt >= 0 ? rest[toolAt + 1]! : 'cpu';
  const dest = join(__dirname, '..', '..', 'bench', 'results', `profile-${tool}-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const launcher = launcherFor(tool, dest);
  if (!scenario || !launcher || scenario.settlesGarbage) {
    console.error(`usage: npm run profile -- <${Object.entries(scenarios).filter(([, s]) => !s.settlesGarbage).map(([n]) => n).join('|')}> [--tool cpu|heap|clinic-doctor|clinic-flame] [--quick]`);
    process.exit(64);
  }
  mkdirSync(dest, { recursive: true });
  console.error(`starting the server under ${tool}`);
  const server = await startServer({ ...HALOBUZZ_BENCH_ENV, HALOBUZZ_WORKERS: '2' }, undefined, undefined, launcher);
  const target: Target = { name: 'halobuzz', protocol: 'msgpack', server, label: `HaloBuzz under ${tool}`, options: { workers: 2, launcher } };
  const measured = await scenario.run(target, rest.includes('--quick') ? scenario.quick : scenario.defaults);
  console.log(JSON.stringify(measured.metrics, null, 2));
  console.error('stopping the server; the profiler is writing its files');
  server.child.kill('SIGINT');
  await new Promise((r) => server.child.once('exit', r));
  const files = readdirSync(dest, { recursive: true }).map(String).filter((f) => /\.(cpuprofile|heapprofile|html)$/.test(f));
  console.log(`profile: ${files.map((f) => join(dest, f)).join('\n         ') || `(nothing written under ${dest})`}`);
  for (const f of files.filter((x) => x.endsWith('.cpuprofile')).sort()) {
    console.log(`\nthread ${f.split('.').slice(-3, -2)[0]}: top self time`);
    for (const row of topSelfTime(join(dest, f))) console.log(`  ${String(row.share).padStart(5)}%  ${row.fn}`);
  }
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
