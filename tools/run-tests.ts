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
  console.log(`running ${files.length} test files`);
  const tap = spawn(process.execPath, [join(root, '..', 'node_modules', 'tap', 'dist', 'esm', 'run.mjs'), '--disable-coverage', '--reporter=tap', '--timeout=300', '--jobs=2', ...files], {
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
    const [total, pass, fail, skip] = [count('total'), count('pass'), count('fail'), count('skip')];
    console.log(`${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
    process.exit(code === 0 && total > 0 ? 0 : 1);
  });
}

main();
