/**
 * Export jobs (docs/privacy.md § Export): one row per request, on the node that builds and serves the
 * archive. The archive is a file in this node's data folder, so the job lives beside it in SQLite
 * (data/exports.sqlite) whatever engine holds the rest: a link can only be served where its file is.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';

/** `expired`: the link passed its time and the archive was deleted (still counts against the daily limit). */
export type ExportStatus = 'pending' | 'ready' | 'failed' | 'expired';

export interface ExportJob {
  readonly id: string;
  readonly user: string;
  readonly status: ExportStatus;
  readonly createdAt: number;
  /** Stores whose part is written to the staging folder (a resumed job skips them). */
  readonly done: readonly string[];
  readonly readyAt: number | null;
  /** When the download link stops working and the archive is deleted. */
  readonly expiresAt: number | null;
  readonly bytes: number | null;
  readonly error: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS export_jobs (id TEXT PRIMARY KEY, user TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
  done TEXT NOT NULL DEFAULT '[]', ready_at INTEGER, expires_at INTEGER, bytes INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS export_jobs_user ON export_jobs (user, created_at);
`;

interface Row { id: string; user: string; status: ExportStatus; created_at: number; done: string; ready_at: number | null; expires_at: number | null; bytes: number | null; error: string | null }

const toJob = (r: Row): ExportJob => ({
  id: r.id, user: r.user, status: r.status, createdAt: r.created_at, done: JSON.parse(r.done) as string[], readyAt: r.ready_at, expiresAt: r.expires_at, bytes: r.bytes, error: r.error,
});

export class ExportJobStore {
  private readonly db: Database.Database;
  private readonly createTx: Database.Transaction<(job: ExportJob, since: number) => ExportJob | null>;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.db.exec(SCHEMA);
    // One request per user per window: the check and the insert are one transaction.
    this.createTx = this.db.transaction((job: ExportJob, since: number) => {
      const last = this.db.prepare("SELECT * FROM export_jobs WHERE user = ? AND created_at > ? AND status != 'failed' ORDER BY created_at DESC LIMIT 1").get(job.user, since) as Row | undefined;
      if (last) return toJob(last);
      this.db.prepare('INSERT INTO export_jobs (id, user, status, created_at) VALUES (?, ?, ?, ?)').run(job.id, job.user, job.status, job.createdAt);
      return null;
    });
  }

  /** Creates the job unless the user has one created after `since`; returns that one instead. */
  async create(job: Pick<ExportJob, 'id' | 'user' | 'createdAt'>, since: number): Promise<{ created: true } | { created: false; existing: ExportJob }> {
    const existing = this.createTx.immediate({ ...job, status: 'pending', done: [], readyAt: null, expiresAt: null, bytes: null, error: null }, since);
    return existing ? { created: false, existing } : { created: true };
  }

  async get(id: string): Promise<ExportJob | null> {
    const r = this.db.prepare('SELECT * FROM export_jobs WHERE id = ?').get(id) as Row | undefined;
    return r ? toJob(r) : null;
  }

  async ofUser(user: string, limit: number): Promise<ExportJob[]> {
    return (this.db.prepare('SELECT * FROM export_jobs WHERE user = ? ORDER BY created_at DESC LIMIT ?').all(user, limit) as Row[]).map(toJob);
  }

  async pending(): Promise<ExportJob[]> {
    return (this.db.prepare("SELECT * FROM export_jobs WHERE status = 'pending' ORDER BY created_at").all() as Row[]).map(toJob);
  }

  async markDone(id: string, store: string): Promise<void> {
    const r = this.db.prepare('SELECT done FROM export_jobs WHERE id = ?').get(id) as { done: string } | undefined;
    if (!r) return;
    const done = new Set(JSON.parse(r.done) as string[]).add(store);
    this.db.prepare('UPDATE export_jobs SET done = ? WHERE id = ?').run(JSON.stringify([...done]), id);
  }

  async finish(id: string, outcome: { readyAt: number; expiresAt: number; bytes: number } | { error: string }): Promise<void> {
    if ('error' in outcome) this.db.prepare("UPDATE export_jobs SET status = 'failed', error = ? WHERE id = ?").run(outcome.error, id);
    else this.db.prepare("UPDATE export_jobs SET status = 'ready', ready_at = ?, expires_at = ?, bytes = ? WHERE id = ?").run(outcome.readyAt, outcome.expiresAt, outcome.bytes, id);
  }

  /** Ready jobs whose link has expired (their archives are to be deleted). */
  async expired(now: number): Promise<ExportJob[]> {
    return (this.db.prepare("SELECT * FROM export_jobs WHERE status = 'ready' AND expires_at <= ?").all(now) as Row[]).map(toJob);
  }

  async markExpired(id: string): Promise<void> {
    this.db.prepare("UPDATE export_jobs SET status = 'expired' WHERE id = ? AND status = 'ready'").run(id);
  }

  /** Erasure: a user's export jobs go (their archives are deleted by the caller). */
  async eraseUser(user: string): Promise<string[]> {
    const ids = (this.db.prepare('SELECT id FROM export_jobs WHERE user = ?').all(user) as { id: string }[]).map((r) => r.id);
    this.db.prepare('DELETE FROM export_jobs WHERE user = ?').run(user);
    return ids;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
