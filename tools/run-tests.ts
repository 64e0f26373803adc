/**
 * `npm test`: runs every compiled `*.test.js` under dist/ with tap (optionally only files whose path
 * contains one of the given words), then prints the plain closing line "N passed, N failed".
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function findTests(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name === 'node_modules') continue;
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

function main(): void {
  const root = join(__dirname, '..');
  const filters = process.argv.slice(2);
  const files = findTests(root)
    .map((f) => relative(process.cwd(), f))
    .filter((f) => filters.length === 0 || filters.some((w) => f.includes(w)))
    .sort();
  if (files.length === 0) {
    console.error('no test files matched');
    process.exit(1);
  }
  // `*.serial.test.js` files disturb shared engines (they restart the Kafka broker) or need the machine to
  // themselves (a rolling restart of three nodes under load): they run after the rest, alone.
  const serial = files.filter((f) => f.endsWith('.serial.test.js'));
  const parallel = files.filter((f) => !serial.includes(f));
  console.log(`running ${files.length} test files (${serial.length} alone at the end)`);
  const totals = { total: 0, pass: 0, fail: 0, skip: 0 };
  let failed = false;
  const run = (list: string[], jobs: number): Promise<void> => new Promise((resolve) => {
    if (list.length === 0) return resolve();
    const tap = spawn(process.execPath, [join(root, '..', 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), '--disable-coverage', '--reporter=tap', '--timeout=300', `--jobs=${jobs}`, ...list], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let tail = '';
    tap.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    tap.on('close', (code) => {
      const summary = /# \{ total: \d+[^}]*\}/.exec(tail)?.[0] ?? '';
      const count = (key: string) => Number(new RegExp(`${key}: (\\d+)`).exec(summary)?.[1] ?? 0);
      for (const key of ['total', 'pass', 'fail', 'skip'] as const) totals[key] += count(key);
      if (code !== 0) failed = true;
      resolve();
    });
  });
  void run(parallel, 2).then(() => run(serial, 1)).then(() => {
    console.log(`${totals.pass} passed, ${totals.fail} failed${totals.skip ? `, ${totals.skip} skipped` : ''}`);
    process.exit(!failed && totals.total > 0 ? 0 : 1);
  });
}

main();
