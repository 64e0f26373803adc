/** Embedded AccountStore on SQLite (one file in the data folder, opened by the main thread only). */
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import type { AccountStore, LoginSession, MfaState, Profile, RotateResult, SecurityEvent, User } from './account-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
  display_name TEXT NOT NULL, roles TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (sid TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL, user_agent TEXT NOT NULL, ip TEXT NOT NULL, revoked_at INTEGER) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id);
CREATE TABLE IF NOT EXISTS refresh_tokens (hash TEXT PRIMARY KEY, sid TEXT NOT NULL, expires_at INTEGER NOT NULL,
  used_at INTEGER) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (user_id TEXT NOT NULL, blocked TEXT NOT NULL, since INTEGER NOT NULL,
  PRIMARY KEY (user_id, blocked)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS backup_codes (user_id TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (user_id, hash)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS security_events (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, user_id TEXT,
  type TEXT NOT NULL, ip TEXT NOT NULL, detail TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS security_events_user ON security_events (user_id, id);
CREATE TABLE IF NOT EXISTS used_once (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
`;

interface UserRow {
  id: string; email: string; password_hash: string; display_name: string; roles: string; created_at: number;
  avatar_url: string | null; locale: string | null; country: string | null; mfa_secret: string | null; mfa_enabled: number; mfa_last_step: number;
  deactivated_at: number | null; erase_after: number | null; pseudonym: string | null;
}
interface SessionRow { sid: string; user_id: string; created_at: number; last_used_at: number; user_agent: string; ip: string; revoked_at: number | null }

const toUser = (r: UserRow): User => ({
  id: r.id, email: r.email, passwordHash: r.password_hash, displayName: r.display_name, roles: JSON.parse(r.roles) as string[], createdAt: r.created_at,
  avatarUrl: r.avatar_url, locale: r.locale, country: r.country, deactivatedAt: r.deactivated_at, eraseAfter: r.erase_after, pseudonym: r.pseudonym,
});
const toSession = (r: SessionRow): LoginSession => ({ sid: r.sid, userId: r.user_id, createdAt: r.created_at, lastUsedAt: r.last_used_at, userAgent: r.user_agent, ip: r.ip, revokedAt: r.revoked_at });

export class SqliteAccountStore implements AccountStore {
  private readonly db: Database.Database;
  private readonly personal: PersonalData;
  private readonly rotateTx: Database.Transaction<(oldHash: string, newHash: string, newExpiresAt: number, now: number) => RotateResult>;

  constructor(file: string) {
    this.db = openSqlite(file, 'FULL');
    this.db.exec(SCHEMA);
    const columns = (this.db.prepare('PRAGMA table_info(users)').all() as { name: string }[]).map((c) => c.name);
    for (const [name, type] of [['avatar_url', 'TEXT'], ['locale', 'TEXT'], ['country', 'TEXT'], ['mfa_secret', 'TEXT'],
      ['mfa_enabled', 'INTEGER NOT NULL DEFAULT 0'], ['mfa_last_step', 'INTEGER NOT NULL DEFAULT 0'], ['deactivated_at', 'INTEGER'],
      ['erase_after', 'INTEGER'], ['pseudonym', 'TEXT']] as const) {
      if (!columns.includes(name)) this.db.exec(`ALTER TABLE users ADD COLUMN ${name} ${type}`);
    }
    this.personal = sqlitePersonalData(this.db, [
      { table: 'users', section: 'account', owner: ['id'], erase: 'delete', omit: ['password_hash', 'mfa_secret', 'pseudonym'] },
      { table: 'sessions', section: 'sessions', owner: ['user_id'], erase: 'delete' },
      { table: 'blocks', section: 'blocks', owner: ['user_id'], erase: 'delete' },
      // Others' blocks of an erased account protect nobody any more.
      { table: 'blocks', section: null, owner: ['blocked'], erase: 'delete' },
      { table: 'backup_codes', section: null, owner: ['user_id'], erase: 'delete' },
      { table: 'security_events', section: 'security_events', owner: ['user_id'], erase: 'delete' },
    ]);
    this.rotateTx = this.db.transaction((oldHash: string, newHash: string, newExpiresAt: number, now: number): RotateResult => {
      const token = this.db.prepare('SELECT sid, expires_at AS expiresAt, used_at AS usedAt FROM refresh_tokens WHERE hash = ?').get(oldHash) as
        { sid: string; expiresAt: number; usedAt: number | null } | undefined;
      if (!token) return { kind: 'unknown' };
      const row = this.db.prepare('SELECT * FROM sessions WHERE sid = ?').get(token.sid) as SessionRow | undefined;
      if (!row) return { kind: 'unknown' };
      const session = toSession(row);
      if (token.usedAt !== null) return { kind: 'reused', session };
      if (session.revokedAt !== null) return { kind: 'revoked', session };
      if (token.expiresAt <= now) return { kind: 'expired' };
      this.db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE hash = ?').run(now, oldHash);
      this.db.prepare('INSERT INTO refresh_tokens (hash, sid, expires_at) VALUES (?, ?, ?)').run(newHash, token.sid, newExpiresAt);
      this.db.prepare('UPDATE sessions SET last_used_at = ? WHERE sid = ?').run(now, token.sid);
      return { kind: 'rotated', session: { ...session, lastUsedAt: now } };
    });
  }

  async createUser(u: User): Promise<'created' | 'email_taken'> {
    const r = this.db.prepare(`INSERT INTO users (id, email, password_hash, display_name, roles, created_at) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(email) DO NOTHING`).run(u.id, u.email, u.passwordHash, u.displayName, JSON.stringify(u.roles), u.createdAt);
    return r.changes === 1 ? 'created' : 'email_taken';
  }

  async userByEmail(email: string): Promise<User | null> {
    const r = this.db.prepare('SELECT * FROM users WHERE email = ?').get(email) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  async userById(id: string): Promise<User | null> {
    const r = this.db.prepare('SELECT * FROM users WHERE id = ?').get(id) as UserRow | undefined;
    return r ? toUser(r) : null;
  }

  async createSession(s: LoginSession, refreshHash: string, refreshExpiresAt: number): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('INSERT INTO sessions (sid, user_id, created_at, last_used_at, user_agent, ip) VALUES (?, ?, ?, ?, ?, ?)')
        .run(s.sid, s.userId, s.createdAt, s.lastUsedAt, s.userAgent, s.ip);
      this.db.prepare('INSERT INTO refresh_tokens (hash, sid, expires_at) VALUES (?, ?, ?)').run(refreshHash, s.sid, refreshExpiresAt);
    })();
  }

  async rotateRefresh(oldHash: string, newHash: string, newExpiresAt: number, now: number): Promise<RotateResult> {
    return this.rotateTx.immediate(oldHash, newHash, newExpiresAt, now);
  }

  async session(sid: string): Promise<LoginSession | null> {
    const r = this.db.prepare('SELECT * FROM sessions WHERE sid = ?').get(sid) as SessionRow | undefined;
    return r ? toSession(r) : null;
  }

  async sessionsOf(userId: string): Promise<LoginSession[]> {
    return (this.db.prepare('SELECT * FROM sessions WHERE user_id = ? AND revoked_at IS NULL ORDER BY created_at DESC').all(userId) as SessionRow[]).map(toSession);
  }

  async revokeSessions(filter: { sid: string } | { userId: string }, now: number): Promise<string[]> {
    return this.db.transaction(() => {
      const rows = ('sid' in filter
        ? this.db.prepare('SELECT sid FROM sessions WHERE sid = ? AND revoked_at IS NULL').all(filter.sid)
        : this.db.prepare('SELECT sid FROM sessions WHERE user_id = ? AND revoked_at IS NULL').all(filter.userId)) as { sid: string }[];
      const stmt = this.db.prepare('UPDATE sessions SET revoked_at = ? WHERE sid = ?');
      for (const r of rows) stmt.run(now, r.sid);
      return rows.map((r) => r.sid);
    })();
  }

  async revokedSince(sinceMs: number): Promise<string[]> {
    return (this.db.prepare('SELECT sid FROM sessions WHERE revoked_at >= ?').all(sinceMs) as { sid: string }[]).map((r) => r.sid);
  }

  async updateProfile(userId: string, p: Profile): Promise<User | null> {
    const sets: string[] = [];
    const values: Record<string, unknown> = { id: userId };
    const map: Record<keyof Profile, string> = { displayName: 'display_name', avatarUrl: 'avatar_url', locale: 'locale', country: 'country' };
    for (const [k, column] of Object.entries(map) as [keyof Profile, string][]) {
      if (p[k] !== undefined) {
        sets.push(`${column} = @${k}`);
        values[k] = p[k];
      }
    }
    if (sets.length > 0) this.db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = @id`).run(values);
    return this.userById(userId);
  }

  async setRoles(userId: string, roles: readonly string[]): Promise<void> {
    this.db.prepare('UPDATE users SET roles = ? WHERE id = ?').run(JSON.stringify(roles), userId);
  }

  async block(userId: string, blocked: string, now: number): Promise<void> {
    this.db.prepare('INSERT OR IGNORE INTO blocks (user_id, blocked, since) VALUES (?, ?, ?)').run(userId, blocked, now);
  }

  async unblock(userId: string, blocked: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM blocks WHERE user_id = ? AND blocked = ?').run(userId, blocked).changes === 1;
  }

  async blocks(userId: string): Promise<{ userId: string; since: number }[]> {
    return this.db.prepare('SELECT blocked AS userId, since FROM blocks WHERE user_id = ? ORDER BY since DESC').all(userId) as { userId: string; since: number }[];
  }

  async isBlocked(userId: string, by: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM blocks WHERE user_id = ? AND blocked = ?').get(by, userId) !== undefined;
  }

  async mfa(userId: string): Promise<MfaState> {
    const r = this.db.prepare('SELECT mfa_secret AS secret, mfa_enabled AS enabled, mfa_last_step AS lastStep FROM users WHERE id = ?').get(userId) as
      { secret: string | null; enabled: number; lastStep: number } | undefined;
    return { secret: r?.secret ?? null, enabled: r?.enabled === 1, lastStep: r?.lastStep ?? 0 };
  }

  async setMfa(userId: string, state: MfaState, backupCodeHashes?: readonly string[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('UPDATE users SET mfa_secret = ?, mfa_enabled = ?, mfa_last_step = ? WHERE id = ?').run(state.secret, state.enabled ? 1 : 0, state.lastStep, userId);
      if (backupCodeHashes) {
        this.db.prepare('DELETE FROM backup_codes WHERE user_id = ?').run(userId);
        const insert = this.db.prepare('INSERT INTO backup_codes (user_id, hash) VALUES (?, ?)');
        for (const h of backupCodeHashes) insert.run(userId, h);
      }
    })();
  }

  async useMfaStep(userId: string, step: number): Promise<boolean> {
    return this.db.prepare('UPDATE users SET mfa_last_step = ? WHERE id = ? AND mfa_last_step < ?').run(step, userId, step).changes === 1;
  }

  async useBackupCode(userId: string, hash: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM backup_codes WHERE user_id = ? AND hash = ?').run(userId, hash).changes === 1;
  }

  async useOnce(key: string, expiresAt: number, now: number): Promise<boolean> {
    this.db.prepare('DELETE FROM used_once WHERE expires_at < ?').run(now);
    return this.db.prepare('INSERT OR IGNORE INTO used_once (key, expires_at) VALUES (?, ?)').run(key, expiresAt).changes === 1;
  }

  async usedOnce(key: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM used_once WHERE key = ?').get(key) !== undefined;
  }

  async signedInFrom(userId: string, ip: string, sinceMs: number): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM sessions WHERE user_id = ? AND ip = ? AND created_at >= ? LIMIT 1').get(userId, ip, sinceMs) !== undefined;
  }

  async logEvent(e: Omit<SecurityEvent, 'id'>): Promise<void> {
    this.db.prepare('INSERT INTO security_events (ts, user_id, type, ip, detail) VALUES (?, ?, ?, ?, ?)').run(e.ts, e.userId, e.type, e.ip, e.detail);
  }

  async events(f: { userId?: string; type?: string; before?: number; limit: number }): Promise<SecurityEvent[]> {
    const rows = this.db.prepare(`SELECT id, ts, user_id AS userId, type, ip, detail FROM security_events
      WHERE (@userId IS NULL OR user_id = @userId) AND (@type IS NULL OR type = @type) AND id < @before ORDER BY id DESC LIMIT @limit`)
      .all({ userId: f.userId ?? null, type: f.type ?? null, before: f.before ?? Number.MAX_SAFE_INTEGER, limit: f.limit }) as SecurityEvent[];
    return rows;
  }

  async deactivate(userId: string, at: number, eraseAfter: number, pseudonym: string): Promise<boolean> {
    return this.db.prepare('UPDATE users SET deactivated_at = ?, erase_after = ?, pseudonym = ? WHERE id = ? AND deactivated_at IS NULL')
      .run(at, eraseAfter, pseudonym, userId).changes === 1;
  }

  async reactivate(userId: string): Promise<boolean> {
    return this.db.prepare('UPDATE users SET deactivated_at = NULL, erase_after = NULL, pseudonym = NULL WHERE id = ? AND deactivated_at IS NOT NULL')
      .run(userId).changes === 1;
  }

  async dueErasures(now: number, limit: number): Promise<User[]> {
    return (this.db.prepare('SELECT * FROM users WHERE erase_after IS NOT NULL AND erase_after <= ? ORDER BY erase_after LIMIT ?').all(now, limit) as UserRow[]).map(toUser);
  }

  async deactivatedAmong(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = this.db.prepare(`SELECT id FROM users WHERE deactivated_at IS NOT NULL AND id IN (${ids.map(() => '?').join(',')})`).all(...ids) as { id: string }[];
    return new Set(rows.map((r) => r.id));
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  /** Refresh tokens go with their sessions; failed sign-ins recorded under the email (no user id) go too. */
  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    const tokens = this.db.prepare('DELETE FROM refresh_tokens WHERE sid IN (SELECT sid FROM sessions WHERE user_id = ?)').run(e.user).changes;
    const byEmail = e.aliases.length === 0 ? 0 : this.db.prepare(`DELETE FROM security_events WHERE user_id IS NULL AND detail IN (${e.aliases.map(() => '?').join(',')})`).run(...e.aliases).changes;
    const counts = await this.personal.eraseUser(e);
    if (tokens > 0) counts.refresh_tokens = tokens;
    if (byEmail > 0) counts.security_events = (counts.security_events ?? 0) + byEmail;
    return counts;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export const sqliteAccountStoreSatisfiesPort = SqliteAccountStore satisfies new (file: string) => AccountStore;
