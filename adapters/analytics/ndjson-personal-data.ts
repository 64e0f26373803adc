/**
 * A user's analytics events in the embedded NDJSON files (analytics/events-YYYY-MM-DD.ndjson), with the
 * same rules as ClickHouse: events the user caused are dropped, others that name them as `creator` or
 * `target` keep counting with the pseudonym. A file is rewritten by moving it aside first, so a sink
 * appending meanwhile starts a fresh file under the old name; the kept lines are then appended to it
 * (line order within a day carries no meaning: readers sort by `ts_ms` and de-duplicate by `id`).
 */
import { appendFile, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Erasure, ErasureCounts, PersonalData, PersonalExport } from '../privacy/personal-data';

const FILE = /^events-\d{4}-\d{2}-\d{2}\.ndjson$/;

export class NdjsonPersonalData implements PersonalData {
  constructor(private readonly dir: string, private readonly settleMs = 100) {}

  async exportUser(user: string): Promise<PersonalExport> {
    const events: unknown[] = [];
    for (const file of await this.files()) {
      for (const line of (await readFile(join(this.dir, file), 'utf8')).split('\n')) {
        if (!line.includes(user)) continue;
        const e = JSON.parse(line) as { user?: string };
        if (e.user === user) events.push(e);
      }
    }
    return { analytics_events: events };
  }

  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    let dropped = 0;
    let renamed = 0;
    for (const file of await this.files()) {
      const path = join(this.dir, file);
      if (!(await readFile(path, 'utf8')).includes(e.user)) continue;
      const aside = `${path}.erasing-${process.pid}`;
      await rename(path, aside);
      // An append that opened the old name just before the move lands in the moved file: let it finish.
      await new Promise((r) => setTimeout(r, this.settleMs));
      const kept: string[] = [];
      for (const line of (await readFile(aside, 'utf8')).split('\n')) {
        if (!line) continue;
        if (!line.includes(e.user)) {
          kept.push(line);
          continue;
        }
        const event = JSON.parse(line) as Record<string, unknown>;
        if (event.user === e.user) {
          dropped++;
          continue;
        }
        for (const field of ['creator', 'target']) if (event[field] === e.user) event[field] = e.pseudonym;
        kept.push(JSON.stringify(event));
        renamed++;
      }
      if (kept.length > 0) await appendFile(path, `${kept.join('\n')}\n`);
      await rm(aside);
    }
    return { ...(dropped > 0 ? { analytics_events: dropped } : {}), ...(renamed > 0 ? { analytics_events_naming: renamed } : {}) };
  }

  private async files(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => FILE.test(f)).sort();
    } catch {
      return [];
    }
  }
}
