/** Writes a bench result as JSON (and its chart as SVG) under bench/results/, named by scenario and time. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function writeResult(scenario: string, result: unknown, svg?: string): string[] {
  const dir = join(__dirname, '..', '..', 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const base = join(dir, `${scenario}-${stamp}`);
  writeFileSync(`${base}.json`, JSON.stringify({ at: new Date().toISOString(), node: process.version, ...(result as object) }, null, 2));
  const files = [`${base}.json`];
  if (svg) {
    writeFileSync(`${base}.svg`, svg);
    files.push(`${base}.svg`);
  }
  return files;
}
