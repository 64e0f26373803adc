/**
 * ModerationStore on an embedded SQLite file (data/moderation.sqlite). A report is one JSON document with
 * the columns the queue sorts and filters on beside it; a partial unique index keeps one open report per
 * target, and every state change is a read-check-write in one transaction.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import { mergedPriority, reportAsFiled, type Appeal, type AuditEntry, type FileLimits, type FileResult, type ModerationStore, type NewReport, type Report, type ReportStatus, type Resolution, type Suspension } from './moderation-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, target_key TEXT NOT NULL, target_user TEXT, status TEXT NOT NULL, priority INTEGER NOT NULL,
  open INTEGER NOT NULL, created_at INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS reports_open_target ON reports (target_key) WHERE open = 1;
CREATE INDEX IF NOT EXISTS reports_queue ON reports (status, priority, created_at, id);
CREATE INDEX IF NOT EXISTS reports_about ON reports (target_user, created_at);
CREATE TABLE IF NOT EXISTS report_filings (reporter TEXT NOT NULL, at INTEGER NOT NULL, report TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS report_filings_reporter ON report_filings (reporter, at);
CREATE TABLE IF NOT EXISTS audit_log (id TEXT PRIMARY KEY, at INTEGER NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
  reason TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS audit_at ON audit_log (at);
CREATE INDEX IF NOT EXISTS audit_target ON audit_log (target, at);
CREATE INDEX IF NOT EXISTS audit_actor ON audit_log (actor, at);
CREATE TABLE IF NOT EXISTS suspensions (user TEXT PRIMARY KEY, until INTEGER NOT NULL, reason TEXT NOT NULL, by TEXT NOT NULL, at INTEGER NOT NULL,
  devices TEXT NOT NULL, lifted_at INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suspension_devices (device TEXT NOT NULL, user TEXT NOT NULL, PRIMARY KEY (device, user)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS shadow_mutes (user TEXT PRIMARY KEY, until INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS user_devices (user TEXT NOT NULL, device TEXT NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL,
  PRIMARY KEY (user, device)) WITHOUT ROWID;
`;

const OPEN: readonly ReportStatus[] = ['open', 'claimed'];
const HOUR = 3_600_000;

interface SuspensionRow { user: string; until: number; reason: string; by: string; at: number; devices: string }
const toSuspension = (r: SuspensionRow): Suspension => ({ user: r.user, until: r.until, reason: r.reason, by: r.by, at: r.at, devices: JSON.parse(r.devices) as string[] });
/**
 * Where a user's data is. Reports about an erased user are deleted (nobody is left to act on); their
 * name in reports about others and in the audit log is pseudonymised, so the history of staff decisions
 * stays whole. Shadow mutes are erased but not exported (telling would defeat them).
 */
const PERSONAL = [
  { table: 'reports', section: null, owner: ['target_user'], erase: 'delete', json: ['doc'] },
  { table: 'report_filings', section: null, owner: ['reporter'], erase: 'delete' },
  { table: 'audit_log', section: 'moderation_log', owner: ['actor', 'target'], erase: 'pseudonymise', json: ['detail'] },
  { table: 'suspensions', section: 'suspensions', owner: ['user'], erase: 'delete', json: ['devices'] },
  { table: 'suspension_devices', section: null, owner: ['user'], erase: 'delete' },
  { table: 'shadow_mutes', section: null, owner: ['user'], erase: 'delete' },
  { table: 'user_devices', section: 'devices_seen', owner: ['user'], erase: 'delete' },
] as const;

const inForce = (r: { until: number }, now: number) => r.until === 0 || r.until > now;

export class SqliteModerationStore implements ModerationStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly personal: PersonalData;
  private readonly fileTx: (r: NewReport, limit: FileLimits) => FileResult;
  private readonly changeTx: (id: string, change: (r: Report) => Report | null) => Report | null;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.personal = sqlitePersonalData(db, PERSONAL);
    this.stmts = {
      get: db.prepare('SELECT doc FROM reports WHERE id = ?'),
      openFor: db.prepare('SELECT doc FROM reports WHERE target_key = ? AND open = 1'),
      insert: db.prepare('INSERT INTO reports (id, target_key, target_user, status, priority, open, created_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      update: db.prepare('UPDATE reports SET status = ?, priority = ?, open = ?, doc = ? WHERE id = ?'),
      filings: db.prepare('SELECT count(*) AS n FROM report_filings WHERE reporter = ? AND at > ?'),
      addFiling: db.prepare('INSERT INTO report_filings (reporter, at, report) VALUES (?, ?, ?)'),
      queue: db.prepare('SELECT doc FROM reports WHERE status = ? ORDER BY priority, created_at, id LIMIT ?'),
      queueAfter: db.prepare(`SELECT doc FROM reports WHERE status = ? AND (priority, created_at, id) > (SELECT priority, created_at, id FROM reports WHERE id = ?)
        ORDER BY priority, created_at, id LIMIT ?`),
      about: db.prepare('SELECT doc FROM reports WHERE target_user = ? ORDER BY created_at DESC LIMIT ?'),
      audit: db.prepare('INSERT OR IGNORE INTO audit_log (id, at, actor, action, target, reason, detail) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      suspend: db.prepare(`INSERT INTO suspensions (user, until, reason, by, at, devices, lifted_at) VALUES (?, ?, ?, ?, ?, ?, NULL)
        ON CONFLICT(user) DO UPDATE SET until = excluded.until, reason = excluded.reason, by = excluded.by, at = excluded.at, devices = excluded.devices, lifted_at = NULL`),
      clearDevices: db.prepare('DELETE FROM suspension_devices WHERE user = ?'),
      addDevice: db.prepare('INSERT OR IGNORE INTO suspension_devices (device, user) VALUES (?, ?)'),
      suspension: db.prepare('SELECT * FROM suspensions WHERE user = ? AND lifted_at IS NULL'),
      lift: db.prepare('UPDATE suspensions SET lifted_at = ? WHERE user = ? AND lifted_at IS NULL AND (until = 0 OR until > ?)'),
      covering: db.prepare(`SELECT s.* FROM suspension_devices d JOIN suspensions s ON s.user = d.user
        WHERE d.device = ? AND d.user <> ? AND s.lifted_at IS NULL AND (s.until = 0 OR s.until > ?) LIMIT 1`),
      shadowSet: db.prepare('INSERT INTO shadow_mutes (user, until) VALUES (?, ?) ON CONFLICT(user) DO UPDATE SET until = excluded.until'),
      shadowDel: db.prepare('DELETE FROM shadow_mutes WHERE user = ?'),
      shadowAll: db.prepare('SELECT user, until FROM shadow_mutes WHERE until = 0 OR until > ? ORDER BY user'),
      sawDevice: db.prepare(`INSERT INTO user_devices (user, device, first_at, last_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(user, device) DO UPDATE SET last_at = excluded.last_at`),
      devicesOf: db.prepare('SELECT device FROM user_devices WHERE user = ? ORDER BY last_at DESC LIMIT 50'),
    };
    const s = this.stmts;
    this.fileTx = db.transaction((r: NewReport, limit: FileLimits): FileResult => {
      if (!limit.system && (s.filings.get(r.reporter, r.createdAt - HOUR) as { n: number }).n >= limit.perHour) return { kind: 'rate_limited' };
      const existing = s.openFor.get(r.targetKey) as { doc: string } | undefined;
      if (existing) {
        const open = JSON.parse(existing.doc) as Report;
        if (open.reporters.includes(r.reporter)) return { kind: 'merged', report: open };
        const reporters = [...open.reporters, r.reporter];
        const merged: Report = { ...open, reporters, priority: mergedPriority(open.priority, r.priority, reporters.length, limit.escalateAt), updatedAt: r.createdAt };
        s.update.run(merged.status, merged.priority, 1, JSON.stringify(merged), merged.id);
        if (!limit.system) s.addFiling.run(r.reporter, r.createdAt, merged.id);
        return { kind: 'merged', report: merged };
      }
      const report: Report = {
        id: r.id, targetKey: r.targetKey, target: r.target, reason: r.reason, text: r.text, snapshot: r.snapshot, reporters: [r.reporter], priority: r.priority,
        status: 'open', claimedBy: null, resolution: null, appeal: null, notes: [], createdAt: r.createdAt, updatedAt: r.createdAt,
      };
      s.insert.run(report.id, report.targetKey, report.target.user, report.status, report.priority, 1, report.createdAt, JSON.stringify(report));
      if (!limit.system) s.addFiling.run(r.reporter, r.createdAt, report.id);
      return { kind: 'filed', report };
    });
    this.changeTx = db.transaction((id: string, change: (r: Report) => Report | null): Report | null => {
      const row = s.get.get(id) as { doc: string } | undefined;
      if (!row) return null;
      const next = change(JSON.parse(row.doc) as Report);
      if (!next) return null;
      s.update.run(next.status, next.priority, OPEN.includes(next.status) ? 1 : 0, JSON.stringify(next), id);
      return next;
    });
  }

  async file(report: NewReport, limit: FileLimits): Promise<FileResult> {
    return this.fileTx(report, limit);
  }

  async report(id: string): Promise<Report | null> {
    const row = this.stmts.get.get(id) as { doc: string } | undefined;
    return row ? JSON.parse(row.doc) as Report : null;
  }

  async reports(filter: { status: ReportStatus; limit: number; after?: string }): Promise<Report[]> {
    // Keyset pages in queue order: `after` stands for its (priority, createdAt, id) position.
    const rows = filter.after ? this.stmts.queueAfter.all(filter.status, filter.after, filter.limit) : this.stmts.queue.all(filter.status, filter.limit);
    return (rows as { doc: string }[]).map((r) => JSON.parse(r.doc) as Report);
  }

  async reportsAbout(user: string, limit: number): Promise<Report[]> {
    return (this.stmts.about.all(user, limit) as { doc: string }[]).map((r) => JSON.parse(r.doc) as Report);
  }

  async claim(id: string, by: string, now: number): Promise<Report | null> {
    return this.changeTx(id, (r) => (r.status === 'open' || (r.status === 'claimed' && r.claimedBy === by) ? { ...r, status: 'claimed', claimedBy: by, updatedAt: now } : null));
  }

  async resolve(id: string, resolution: Resolution): Promise<Report | null> {
    return this.changeTx(id, (r) => (OPEN.includes(r.status) ? { ...r, status: 'resolved', claimedBy: r.claimedBy ?? resolution.by, resolution, updatedAt: resolution.at } : null));
  }

  async addNote(id: string, note: { by: string; text: string; at: number }): Promise<Report | null> {
    return this.changeTx(id, (r) => ({ ...r, notes: [...r.notes, note], updatedAt: note.at }));
  }

  async appeal(id: string, appeal: { text: string; at: number }): Promise<Report | null> {
    return this.changeTx(id, (r) => (r.status === 'resolved' && r.appeal === null ? { ...r, status: 'appealed', appeal, updatedAt: appeal.at } : null));
  }

  async decideAppeal(id: string, d: Required<Pick<Appeal, 'decision' | 'by' | 'decidedAt' | 'note'>>): Promise<Report | null> {
    return this.changeTx(id, (r) => (r.status === 'appealed' && r.appeal ? { ...r, status: 'closed', appeal: { ...r.appeal, ...d }, updatedAt: d.decidedAt } : null));
  }

  async audit(e: AuditEntry): Promise<void> {
    this.stmts.audit.run(e.id, e.at, e.actor, e.action, e.target, e.reason, e.detail);
  }

  async auditLog(filter: { target?: string; actor?: string; before?: number; limit: number }): Promise<AuditEntry[]> {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (filter.target) where.push('target = ?') && args.push(filter.target);
    if (filter.actor) where.push('actor = ?') && args.push(filter.actor);
    if (filter.before !== undefined) where.push('at < ?') && args.push(filter.before);
    const sql = `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, id DESC LIMIT ?`;
    return this.db.prepare(sql).all(...args, filter.limit) as AuditEntry[];
  }

  async suspend(s: Suspension): Promise<void> {
    this.db.transaction(() => {
      this.stmts.suspend.run(s.user, s.until, s.reason, s.by, s.at, JSON.stringify(s.devices));
      this.stmts.clearDevices.run(s.user);
      for (const d of s.devices) this.stmts.addDevice.run(d, s.user);
    })();
  }

  async lift(user: string, now: number): Promise<boolean> {
    return this.stmts.lift.run(now, user, now).changes > 0;
  }

  async suspension(user: string, now: number): Promise<Suspension | null> {
    const row = this.stmts.suspension.get(user) as SuspensionRow | undefined;
    return row && inForce(row, now) ? toSuspension(row) : null;
  }

  async suspensionCovering(device: string, user: string, now: number): Promise<Suspension | null> {
    const row = this.stmts.covering.get(device, user, now) as SuspensionRow | undefined;
    return row ? toSuspension(row) : null;
  }

  async setShadowMute(user: string, until: number | null): Promise<void> {
    if (until === null) this.stmts.shadowDel.run(user);
    else this.stmts.shadowSet.run(user, until);
  }

  async shadowMutes(now: number): Promise<{ user: string; until: number }[]> {
    return this.stmts.shadowAll.all(now) as { user: string; until: number }[];
  }

  async sawDevice(user: string, device: string, now: number): Promise<void> {
    this.stmts.sawDevice.run(user, device, now, now);
  }

  async devicesOf(user: string): Promise<string[]> {
    return (this.stmts.devicesOf.all(user) as { device: string }[]).map((r) => r.device);
  }

  async exportUser(user: string): Promise<PersonalExport> {
    const out = await this.personal.exportUser(user);
    const filed = this.db.prepare('SELECT f.at, r.doc FROM report_filings f JOIN reports r ON r.id = f.report WHERE f.reporter = ? ORDER BY f.at').all(user) as { at: number; doc: string }[];
    out.reports_filed = filed.map((f) => reportAsFiled(JSON.parse(f.doc) as Report, user, f.at));
    return out;
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
