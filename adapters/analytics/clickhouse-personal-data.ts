/**
 * A user's analytics events in ClickHouse: exported as rows, erased with mutations (18.16 has
 * `ALTER TABLE … DELETE` and `… UPDATE`). Events the user caused are deleted; events of others that name
 * them (a fan's gift to them as `creator`, a moderation action on them as `target`) keep counting with
 * the pseudonym in that column. No rollup tables exist (every named query reads `events FINAL`), so
 * nothing else needs recomputing; the mutations are waited for, so a finished erasure is really finished.
 */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import type { Erasure, ErasureCounts, PersonalData, PersonalExport } from '../privacy/personal-data';

/** A ClickHouse string literal (18.16 has no query parameters). */
export function chString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export class ClickHousePersonalData implements PersonalData {
  private readonly client: ClickHouseClient;

  constructor(url: string, database: string, private readonly mutationTimeoutMs = 120_000) {
    this.client = createClient({ url, database, request_timeout: 60_000 });
  }

  async exportUser(user: string): Promise<PersonalExport> {
    const rs = await this.client.query({ query: `SELECT * FROM events FINAL WHERE user = ${chString(user)} ORDER BY ts_ms`, format: 'JSONEachRow' });
    return { analytics_events: (await rs.json()) as unknown[] };
  }

  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    const u = chString(e.user);
    const count = async (where: string) => {
      const rs = await this.client.query({ query: `SELECT count() AS n FROM events WHERE ${where}`, format: 'JSONEachRow' });
      return Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0);
    };
    const caused = await count(`user = ${u}`);
    const named = await count(`creator = ${u} OR target = ${u}`);
    if (caused > 0) await this.client.command({ query: `ALTER TABLE events DELETE WHERE user = ${u}` });
    for (const column of ['creator', 'target']) {
      if (named > 0) await this.client.command({ query: `ALTER TABLE events UPDATE ${column} = ${chString(e.pseudonym)} WHERE ${column} = ${u}` });
    }
    if (caused + named > 0) await this.settled();
    return { ...(caused > 0 ? { analytics_events: caused } : {}), ...(named > 0 ? { analytics_events_naming: named } : {}) };
  }

  /** Waits until ClickHouse has applied every mutation on `events` (they run in the background). */
  private async settled(): Promise<void> {
    const deadline = Date.now() + this.mutationTimeoutMs;
    for (;;) {
      const rs = await this.client.query({ query: "SELECT count() AS n FROM system.mutations WHERE table = 'events' AND is_done = 0 AND database = currentDatabase()", format: 'JSONEachRow' });
      if (Number(((await rs.json()) as { n: string }[])[0]?.n ?? 0) === 0) return;
      if (Date.now() > deadline) throw new Error('ClickHouse mutations on events did not finish in time');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
