/**
 * EventOutbox: the durable queue between "an event happened" and "the analytics store has it". Events are
 * appended to an embedded SQLite file in one transaction per batch before the socket core acts on the
 * effects that produced them, so an event behind an acknowledgement survives SIGKILL (WAL: a committed
 * transaction is in the file even if the process dies the next instant). The shipper reads the oldest
 * events, delivers them, and only then removes them: at least once, in order.
 *
 * The outbox also journals what is open: a `connect` until its `disconnect`, a `join` until its `leave`.
 * When the process died with intervals open, `recoverInterrupted` closes each of them with a closing event
 * marked `endedBy: 'crash'`, timed at the node's last sign of life (its heartbeat or its newest event),
 * so watch time and concurrent viewers come back right after a crash. Closing ids are deterministic
 * (`leave:<visit>`, `disconnect:<session>`), so recovering twice never counts twice.
 *
 * Bounded: beyond `maxEvents` waiting, new events are refused and counted; a refused closing event still
 * closes its interval (otherwise recovery would later invent a crash that did not happen).
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import type { AnalyticsEvent } from './analytics-sink';

export interface OutboxEntry {
  readonly seq: number;
  readonly event: AnalyticsEvent;
}

/** The interval an event opens or closes, by key; null when it does neither. */
function intervalOf(e: AnalyticsEvent): { open: boolean; key: string } | null {
  switch (e.type) {
    case 'connect':
      return e.session ? { open: true, key: `s:${e.session}` } : null;
    case 'disconnect':
      return e.session ? { open: false, key: `s:${e.session}` } : null;
    case 'join':
      return { open: true, key: `v:${e.id}` };
    case 'leave':
      return e.visit ? { open: false, key: `v:${e.visit}` } : null;
    default:
      return null;
  }
}

/** The event that ends an interval its process never closed. */
function crashClose(opened: AnalyticsEvent, at: number): AnalyticsEvent {
  const ts = Math.max(at, opened.ts);
  const base = {
    ts, node: opened.node, user: opened.user, session: opened.session, durationMs: ts - opened.ts, endedBy: 'crash' as const,
    ...(opened.platform ? { platform: opened.platform } : {}), ...(opened.appVersion ? { appVersion: opened.appVersion } : {}),
    ...(opened.country ? { country: opened.country } : {}),
  };
  if (opened.type === 'connect') return { ...base, id: `disconnect:${opened.session}`, type: 'disconnect' };
  return { ...base, id: `leave:${opened.id}`, type: 'leave', room: opened.room, role: opened.role, visit: opened.id, stream: opened.stream };
}

export class EventOutbox {
  private readonly insert: Database.Statement;
  private readonly openStmt: Database.Statement;
  private readonly closeStmt: Database.Statement;
  private readonly appendTx: (events: readonly AnalyticsEvent[]) => number;
  private waiting: number;

  private constructor(private readonly db: Database.Database, private readonly maxEvents: number) {
    db.exec(`CREATE TABLE IF NOT EXISTS outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS open_intervals (key TEXT PRIMARY KEY, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);`);
    this.insert = db.prepare('INSERT INTO outbox (body) VALUES (?)');
    this.openStmt = db.prepare('INSERT OR REPLACE INTO open_intervals (key, body) VALUES (?, ?)');
    this.closeStmt = db.prepare('DELETE FROM open_intervals WHERE key = ?');
    this.waiting = (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
    this.appendTx = db.transaction((events: readonly AnalyticsEvent[]) => {
      let refused = 0;
      for (const e of events) {
        const body = JSON.stringify(e);
        const interval = intervalOf(e);
        if (interval) {
          if (interval.open) this.openStmt.run(interval.key, body);
          else this.closeStmt.run(interval.key);
        }
        if (this.waiting >= this.maxEvents) {
          refused++;
          continue;
        }
        this.insert.run(body);
        this.waiting++;
      }
      return refused;
    });
  }

  /** Closes the intervals these events end, recording nothing (a user who declined analytics). */
  forgetIntervals(events: readonly AnalyticsEvent[]): void {
    for (const e of events) {
      const interval = intervalOf(e);
      if (interval && !interval.open) this.closeStmt.run(interval.key);
    }
  }

  /** Opens (creating) the outbox file; ':memory:' for tests that need no durability. */
  static open(file: string, maxEvents: number): EventOutbox {
    // NORMAL: a committed append survives the process dying (what SIGKILL tests); a power cut may lose the
    // last moments of analytics, never money (the ledger is FULL and separate).
    return new EventOutbox(openSqlite(file, 'NORMAL'), maxEvents);
  }

  /** Appends in one transaction (all or nothing); returns how many were refused because the outbox is full. */
  append(events: readonly AnalyticsEvent[]): number {
    if (events.length === 0) return 0;
    const before = this.waiting;
    try {
      return this.appendTx(events);
    } catch (err) {
      this.waiting = before;
      throw err;
    }
  }

  /** The oldest `limit` waiting events, in order. */
  peek(limit: number): OutboxEntry[] {
    const rows = this.db.prepare('SELECT seq, body FROM outbox ORDER BY seq LIMIT ?').all(limit) as { seq: number; body: string }[];
    return rows.map((r) => ({ seq: r.seq, event: JSON.parse(r.body) as AnalyticsEvent }));
  }

  /** Removes every event up to `seq` (they were delivered). */
  remove(upToSeq: number): void {
    const removed = this.db.prepare('DELETE FROM outbox WHERE seq <= ?').run(upToSeq).changes;
    this.waiting = Math.max(0, this.waiting - removed);
  }

  get size(): number {
    return this.waiting;
  }

  /** Records that the node was alive at `at` (ms): the time crash-closed intervals end at. */
  heartbeat(at: number): void {
    this.db.prepare('INSERT INTO heartbeat (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at WHERE excluded.at > heartbeat.at').run(at);
  }

  /** Intervals open now (connections and room visits not yet closed). */
  openIntervals(): AnalyticsEvent[] {
    return (this.db.prepare('SELECT body FROM open_intervals').all() as { body: string }[]).map((r) => JSON.parse(r.body) as AnalyticsEvent);
  }

  /**
   * Closes the intervals a dead process left open, in one transaction, and returns the closing events it
   * appended. Call once at start, before this node produces events of its own.
   */
  recoverInterrupted(): AnalyticsEvent[] {
    return this.db.transaction(() => {
      const open = this.openIntervals();
      if (open.length === 0) return [];
      const hb = (this.db.prepare('SELECT at FROM heartbeat WHERE id = 1').get() as { at: number } | undefined)?.at ?? 0;
      const newest = (this.db.prepare('SELECT max(seq) AS seq FROM outbox').get() as { seq: number | null }).seq;
      const newestTs = newest === null ? 0 : (JSON.parse((this.db.prepare('SELECT body FROM outbox WHERE seq = ?').get(newest) as { body: string }).body) as AnalyticsEvent).ts;
      const lastAlive = Math.max(hb, newestTs, ...open.map((e) => e.ts));
      const closing = open.map((e) => crashClose(e, lastAlive));
      this.appendTx(closing);
      return closing;
    })();
  }

  close(): void {
    this.db.close();
  }
}
