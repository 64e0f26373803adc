/**
 * Piscina task: packs an export's staged JSON files and its README into one zip (deflate), off the
 * API's event loop. Written to a temporary name and renamed, so a half-written archive is never served.
 */
import { zipSync, strToU8 } from 'fflate';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ArchiveTask {
  readonly stagingDir: string;
  /** Staged file names (relative to stagingDir), each becoming `<name>` in the zip. */
  readonly files: readonly string[];
  readonly readme: string;
  readonly out: string;
}

export default function buildArchive(task: ArchiveTask): number {
  const entries: Record<string, Uint8Array> = { 'README.md': strToU8(task.readme) };
  for (const f of task.files) entries[f] = readFileSync(join(task.stagingDir, f));
  const zip = zipSync(entries, { level: 6 });
  writeFileSync(`${task.out}.tmp`, zip);
  renameSync(`${task.out}.tmp`, task.out);
  return zip.byteLength;
}
