/** NotificationStore on an embedded SQLite file (data/notifications.sqlite). */
import type Database from 'better-sqlite3';
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import { openSqlite } from '../sqlite/open-sqlite';
import { GroupCommit } from '../sqlite/group-commit';
import { BadCursorError, decodeCursor, encodeCursor } from '../social/follow-store';
import type { NotificationSettings } from '../../notify/preferences';
import type { Device, FanoutChunk, FanoutJob, NotificationPage, NotificationStore, PendingPush, StoredNotification } from './notification-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS notifications (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, user TEXT NOT NULL, kind TEXT NOT NULL,
  data TEXT NOT NULL, created_at INTEGER NOT NULL, read_at INTEGER);
CREATE INDEX IF NOT EXISTS notifications_user ON notifications (user, seq);
CREATE INDEX IF NOT EXISTS notifications_unread ON notifications (user, read_at);
CREATE TABLE IF NOT EXISTS notification_settings (user TEXT PRIMARY KEY, settings TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS devices (token TEXT PRIMARY KEY, user TEXT NOT NULL, sid TEXT NOT NULL, platform TEXT NOT NULL, app_version TEXT NOT NULL,
  locale TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS devices_user ON devices (user);
CREATE INDEX IF NOT EXISTS devices_sid ON devices (sid);
CREATE TABLE IF NOT EXISTS push_outbox (id TEXT PRIMARY KEY, notification TEXT NOT NULL, kind TEXT NOT NULL, user TEXT NOT NULL, token TEXT NOT NULL, platform TEXT NOT NULL,
  collapse_key TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS push_outbox_due ON push_outbox (next_at);
CREATE TABLE IF NOT EXISTS fanout_jobs (id TEXT PRIMARY KEY, creator TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, cursor TEXT,
  chunks INTEGER NOT NULL DEFAULT 0, planned INTEGER NOT NULL DEFAULT 0, notified INTEGER NOT NULL DEFAULT 0, done INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '', lease_until INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fanout_jobs_open ON fanout_jobs (done, created_at);
CREATE TABLE IF NOT EXISTS fanout_chunks (id TEXT PRIMARY KEY, job TEXT NOT NULL, idx INTEGER NOT NULL, users TEXT NOT NULL, done INTEGER NOT NULL DEFAULT 0,
  lease_owner TEXT NOT NULL DEFAULT '', lease_until INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fanout_chunks_open ON fanout_chunks (done, job, idx);
`;

interface JobRow { id: string; creator: string; kind: 'went_live'; data: string; cursor: string | null; chunks: number; planned: number; notified: number; done: number; created_at: number }
const toJob = (r: JobRow): FanoutJob => ({
  id: r.id, creator: r.creator, kind: r.kind, data: JSON.parse(r.data) as FanoutJob['data'], cursor: r.cursor, chunks: r.chunks, planned: r.planned === 1,
  notified: r.notified, done: r.done === 1, createdAt: r.created_at,
});

interface Row { seq: number; id: string; user: string; kind: StoredNotification['kind']; data: string; created_at: number; read_at: number | null }
const toNotification = (r: Row): StoredNotification => ({ id: r.id, user: r.user, kind: r.kind, data: JSON.parse(r.data) as StoredNotification['data'], createdAt: r.created_at, readAt: r.read_at });

/** Where a user's data is: their notifications, settings, devices, pending pushes, and fan-outs they started or are in. */
const PERSONAL = [
  { table: 'notifications', section: 'notifications', owner: ['user'], erase: 'delete', json: ['data'] },
  // Others' notifications whose id names the user (`evasion:<room>:<user>:<device>` to a host).
  { table: 'notifications', section: null, owner: ['id'], erase: 'pseudonymise' },
  { table: 'notification_settings', section: 'notification_settings', owner: ['user'], erase: 'delete', json: ['settings'] },
  { table: 'devices', section: 'devices', owner: ['user'], erase: 'delete' },
  { table: 'push_outbox', section: null, owner: ['user'], erase: 'delete' },
  { table: 'fanout_jobs', section: null, owner: ['creator'], erase: 'delete', json: ['data'] },
  { table: 'fanout_chunks', section: null, owner: [], erase: 'delete', json: ['users'] },
] as const;

export class SqliteNotificationStore implements NotificationStore {
  private readonly db: Database.Database;
  /** Notifications added in one event-loop turn (a relay's batch) share one transaction. */
  private readonly inserts: GroupCommit<{ n: StoredNotification; pushes: NonNullable<Parameters<NotificationStore['add']>[1]> }, boolean>;

  private readonly personal: PersonalData;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.db.exec(SCHEMA);
    this.personal = sqlitePersonalData(this.db, PERSONAL);
    const note = this.db.prepare('INSERT OR IGNORE INTO notifications (id, user, kind, data, created_at, read_at) VALUES (?, ?, ?, ?, ?, ?)');
    const push = this.db.prepare(`INSERT OR IGNORE INTO push_outbox (id, notification, kind, user, token, platform, collapse_key, title, body, next_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.inserts = new GroupCommit(this.db, ({ n, pushes }) => {
      if (note.run(n.id, n.user, n.kind, JSON.stringify(n.data), n.createdAt, n.readAt).changes === 0) return false;
      for (const p of pushes) push.run(`${n.id}>${p.token}`, n.id, n.kind, n.user, p.token, p.platform, p.collapseKey, p.title, p.body, n.createdAt);
      return true;
    });
  }

  async add(n: StoredNotification, pushes: NonNullable<Parameters<NotificationStore['add']>[1]> = []): Promise<boolean> {
    return this.inserts.submit({ n, pushes });
  }

  async removePush(id: string): Promise<void> {
    this.db.prepare('DELETE FROM push_outbox WHERE id = ?').run(id);
  }

  async reschedulePush(id: string, attempts: number, nextAt: number): Promise<void> {
    this.db.prepare('UPDATE push_outbox SET attempts = ?, next_at = ? WHERE id = ?').run(attempts, nextAt, id);
  }

  async addJob(job: Pick<FanoutJob, 'id' | 'creator' | 'kind' | 'data' | 'createdAt'>): Promise<boolean> {
    return this.db.prepare('INSERT OR IGNORE INTO fanout_jobs (id, creator, kind, data, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(job.id, job.creator, job.kind, JSON.stringify(job.data), job.createdAt).changes === 1;
  }

  async openJobs(limit: number): Promise<FanoutJob[]> {
    return (this.db.prepare('SELECT * FROM fanout_jobs WHERE done = 0 ORDER BY created_at, id LIMIT ?').all(limit) as JobRow[]).map(toJob);
  }

  async leaseJob(owner: string, now: number, leaseMs: number): Promise<FanoutJob | null> {
    return this.db.transaction(() => {
      const row = this.db.prepare(`SELECT * FROM fanout_jobs WHERE done = 0 AND planned = 0 AND (lease_until <= ? OR lease_owner = ?)
        ORDER BY created_at, id LIMIT 1`).get(now, owner) as JobRow | undefined;
      if (!row) return null;
      this.db.prepare('UPDATE fanout_jobs SET lease_owner = ?, lease_until = ? WHERE id = ?').run(owner, now + leaseMs, row.id);
      return toJob(row);
    })();
  }

  async addChunk(job: string, index: number, users: readonly string[], cursor: string | null, planned: boolean): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('INSERT OR IGNORE INTO fanout_chunks (id, job, idx, users) VALUES (?, ?, ?, ?)').run(`${job}#${index}`, job, index, JSON.stringify(users));
      this.db.prepare('UPDATE fanout_jobs SET cursor = ?, chunks = max(chunks, ?), planned = ? WHERE id = ?').run(cursor, index + 1, planned ? 1 : 0, job);
      this.completeIfDone(job);
    })();
  }

  async leaseChunk(owner: string, now: number, leaseMs: number): Promise<FanoutChunk | null> {
    return this.db.transaction(() => {
      const row = this.db.prepare(`SELECT id, job, users FROM fanout_chunks WHERE done = 0 AND (lease_until <= ? OR lease_owner = ?)
        ORDER BY job, idx LIMIT 1`).get(now, owner) as { id: string; job: string; users: string } | undefined;
      if (!row) return null;
      this.db.prepare('UPDATE fanout_chunks SET lease_owner = ?, lease_until = ? WHERE id = ?').run(owner, now + leaseMs, row.id);
      return { id: row.id, job: row.job, users: JSON.parse(row.users) as string[] };
    })();
  }

  async finishChunk(id: string, notified: number): Promise<void> {
    this.db.transaction(() => {
      const row = this.db.prepare('SELECT job FROM fanout_chunks WHERE id = ? AND done = 0').get(id) as { job: string } | undefined;
      if (!row) return;
      this.db.prepare('UPDATE fanout_chunks SET done = 1 WHERE id = ?').run(id);
      this.db.prepare('UPDATE fanout_jobs SET notified = notified + ? WHERE id = ?').run(notified, row.job);
      this.completeIfDone(row.job);
    })();
  }

  /** A planned job whose chunks are all finished is done (its chunks are no longer needed). */
  private completeIfDone(job: string): void {
    const open = this.db.prepare('SELECT count(*) AS n FROM fanout_chunks WHERE job = ? AND done = 0').get(job) as { n: number };
    if (open.n > 0) return;
    if (this.db.prepare('UPDATE fanout_jobs SET done = 1 WHERE id = ? AND planned = 1').run(job).changes === 1) {
      this.db.prepare('DELETE FROM fanout_chunks WHERE job = ?').run(job);
    }
  }

  async job(id: string): Promise<FanoutJob | null> {
    const row = this.db.prepare('SELECT * FROM fanout_jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row ? toJob(row) : null;
  }

  async duePushes(now: number, limit: number): Promise<PendingPush[]> {
    return this.db.prepare(`SELECT id, notification, kind, user, token, platform, collapse_key AS collapseKey, title, body, attempts, next_at AS nextAt
      FROM push_outbox WHERE next_at <= ? ORDER BY next_at, id LIMIT ?`).all(now, limit) as PendingPush[];
  }

  async list(user: string, page: { limit: number; after?: string }): Promise<NotificationPage> {
    const after = decodeCursor(page.after);
    if (after === null) throw new BadCursorError();
    const rows = this.db.prepare('SELECT * FROM notifications WHERE user = ? AND seq < ? ORDER BY seq DESC LIMIT ?').all(user, after ?? Number.MAX_SAFE_INTEGER, page.limit + 1) as Row[];
    const items = rows.slice(0, page.limit);
    const unread = (this.db.prepare('SELECT count(*) AS n FROM notifications WHERE user = ? AND read_at IS NULL').get(user) as { n: number }).n;
    return { items: items.map(toNotification), next: rows.length > page.limit ? encodeCursor(items.at(-1)!.seq) : null, unread };
  }

  async get(user: string, id: string): Promise<StoredNotification | null> {
    const row = this.db.prepare('SELECT * FROM notifications WHERE user = ? AND id = ?').get(user, id) as Row | undefined;
    return row ? toNotification(row) : null;
  }

  async markRead(user: string, now: number, ids?: readonly string[]): Promise<number> {
    if (ids === undefined) return this.db.prepare('UPDATE notifications SET read_at = ? WHERE user = ? AND read_at IS NULL').run(now, user).changes;
    const mark = this.db.prepare('UPDATE notifications SET read_at = ? WHERE user = ? AND id = ? AND read_at IS NULL');
    return this.db.transaction(() => ids.reduce((n, id) => n + mark.run(now, user, id).changes, 0))();
  }

  async settings(user: string): Promise<NotificationSettings | null> {
    const row = this.db.prepare('SELECT settings FROM notification_settings WHERE user = ?').get(user) as { settings: string } | undefined;
    return row ? (JSON.parse(row.settings) as NotificationSettings) : null;
  }

  async saveSettings(user: string, settings: NotificationSettings): Promise<void> {
    this.db.prepare('INSERT INTO notification_settings (user, settings) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET settings = excluded.settings').run(user, JSON.stringify(settings));
  }

  async registerDevice(d: Device): Promise<void> {
    this.db.prepare(`INSERT INTO devices (token, user, sid, platform, app_version, locale, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT(token) DO UPDATE SET user = excluded.user, sid = excluded.sid, platform = excluded.platform, app_version = excluded.app_version,
      locale = excluded.locale, created_at = excluded.created_at`).run(d.token, d.user, d.sid, d.platform, d.appVersion, d.locale, d.createdAt);
  }

  async removeDevice(user: string, token: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM devices WHERE user = ? AND token = ?').run(user, token).changes === 1;
  }

  /** Removing a device also drops the pushes still waiting for it. */
  async removeTokens(tokens: readonly string[]): Promise<number> {
    const del = this.db.prepare('DELETE FROM devices WHERE token = ?');
    const pushes = this.db.prepare('DELETE FROM push_outbox WHERE token = ?');
    return this.db.transaction(() => tokens.reduce((n, t) => {
      pushes.run(t);
      return n + del.run(t).changes;
    }, 0))();
  }

  async removeSessions(sids: readonly string[]): Promise<number> {
    const tokens = this.db.prepare('SELECT token FROM devices WHERE sid = ?');
    return this.removeTokens(sids.flatMap((sid) => (tokens.all(sid) as { token: string }[]).map((r) => r.token)));
  }

  async devices(user: string): Promise<Device[]> {
    return (this.db.prepare('SELECT token, user, sid, platform, app_version AS appVersion, locale, created_at AS createdAt FROM devices WHERE user = ? ORDER BY created_at').all(user) as Device[]);
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    this.inserts.flush();
    if (this.db.open) this.db.close();
  }
}
