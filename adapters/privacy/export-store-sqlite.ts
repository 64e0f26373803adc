/**
 * Export jobs on SQLite (data/exports.sqlite) and their archives as files beside it: for one API process
 * per data folder. Several processes share them only on MongoDB (export-store-mongo.ts).
 */
import type Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqlite } from '../sqlite/open-sqlite';
import type { ExportJob, ExportStatus, ExportStore } from './export-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS export_jobs (id TEXT PRIMARY KEY, user TEXT NOT NULL, status TEXT NOT NULL, created_at INTEGER NOT NULL,
  done TEXT NOT NULL DEFAULT '[]', ready_at INTEGER, expires_at INTEGER, bytes INTEGER, error TEXT);
CREATE INDEX IF NOT EXISTS export_jobs_user ON export_jobs (user, created_at);
`;

interface Row { id: string; user: string; status: ExportStatus; created_at: number; done: string; ready_at: number | null; expires_at: number | null; bytes: number | null; error: string | null }

const toJob = (r: Row): ExportJob => ({
  id: r.id, user: r.user, status: r.status, createdAt: r.created_at, done: JSON.parse(r.done) as string[], readyAt: r.ready_at, expiresAt: r.expires_at, bytes: r.bytes, error: r.error,
});

export class SqliteExportStore implements ExportStore {
  private readonly db: Database.Database;
  private readonly createTx: Database.Transaction<(job: ExportJob, since: number) => ExportJob | null>;

  /** Jobs this process is running (one process per data folder, so that is every runner). */
  private readonly running = new Set<string>();

  /** `dir`: the data folder (exports.sqlite, and the archives under exports/). */
  constructor(private readonly dir: string) {
    this.db = openSqlite(join(dir, 'exports.sqlite'), 'NORMAL');
    mkdirSync(join(dir, 'exports'), { recursive: true });
    this.db.exec(SCHEMA);
    // One request per user per window: the check and the insert are one transaction.
    this.createTx = this.db.transaction((job: ExportJob, since: number) => {
      const last = this.db.prepare("SELECT * FROM export_jobs WHERE user = ? AND created_at > ? AND status != 'failed' ORDER BY created_at DESC LIMIT 1").get(job.user, since) as Row | undefined;
      if (last) return toJob(last);
      this.db.prepare('INSERT INTO export_jobs (id, user, status, created_at) VALUES (?, ?, ?, ?)').run(job.id, job.user, job.status, job.createdAt);
      return null;
    });
  }

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

  async expired(now: number): Promise<ExportJob[]> {
    return (this.db.prepare("SELECT * FROM export_jobs WHERE status = 'ready' AND expires_at <= ?").all(now) as Row[]).map(toJob);
  }

  async markExpired(id: string): Promise<void> {
    this.db.prepare("UPDATE export_jobs SET status = 'expired' WHERE id = ? AND status = 'ready'").run(id);
  }

  async exclusive<T>(id: string, work: () => Promise<T>): Promise<T | null> {
    if (this.running.has(id)) return null;
    this.running.add(id);
    try {
      return await work();
    } finally {
      this.running.delete(id);
    }
  }

  async putArchive(id: string, zip: Uint8Array): Promise<void> {
    // Written aside and renamed, so a half-written archive is never served.
    writeFileSync(`${this.archivePath(id)}.tmp`, zip);
    renameSync(`${this.archivePath(id)}.tmp`, this.archivePath(id));
  }

  async archive(id: string): Promise<Uint8Array | null> {
    const path = this.archivePath(id);
    return existsSync(path) ? readFileSync(path) : null;
  }

  async deleteArchive(id: string): Promise<void> {
    rmSync(this.archivePath(id), { force: true });
  }

  async eraseUser(user: string): Promise<string[]> {
    const ids = (this.db.prepare('SELECT id FROM export_jobs WHERE user = ?').all(user) as { id: string }[]).map((r) => r.id);
    this.db.prepare('DELETE FROM export_jobs WHERE user = ?').run(user);
    return ids;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private archivePath(id: string): string {
    return join(this.dir, 'exports', `${id}.zip`);
  }
}
