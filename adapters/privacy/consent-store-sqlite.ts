/** ConsentStore on an embedded SQLite file (data/privacy.sqlite): an append-only table and a current-state table, written together. */
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import { CONSENT_PERSONAL_DATA, type ConsentKind, type ConsentRecord, type ConsentStore } from './consent-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS consent_history (id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, kind TEXT NOT NULL, granted INTEGER NOT NULL,
  version TEXT NOT NULL, at INTEGER NOT NULL, source TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS consent_history_user ON consent_history (user, id);
CREATE TABLE IF NOT EXISTS consent_current (user TEXT NOT NULL, kind TEXT NOT NULL, granted INTEGER NOT NULL, version TEXT NOT NULL, at INTEGER NOT NULL,
  source TEXT NOT NULL, PRIMARY KEY (user, kind)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS consent_current_kind ON consent_current (kind, granted);
`;

interface Row { user: string; kind: ConsentKind; granted: number; version: string; at: number; source: string }
const toRecord = (r: Row): ConsentRecord => ({ user: r.user, kind: r.kind, granted: r.granted === 1, version: r.version, at: r.at, source: r.source });

export class SqliteConsentStore implements ConsentStore {
  private readonly personal: PersonalData;
  private readonly db: Database.Database;
  private readonly write: (records: readonly ConsentRecord[]) => void;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.personal = sqlitePersonalData(this.db, CONSENT_PERSONAL_DATA);
    this.db.exec(SCHEMA);
    const current = this.db.prepare('SELECT granted, version FROM consent_current WHERE user = ? AND kind = ?');
    const append = this.db.prepare('INSERT INTO consent_history (user, kind, granted, version, at, source) VALUES (?, ?, ?, ?, ?, ?)');
    const set = this.db.prepare(`INSERT INTO consent_current (user, kind, granted, version, at, source) VALUES (?, ?, ?, ?, ?, ?)
      ON CONFLICT(user, kind) DO UPDATE SET granted = excluded.granted, version = excluded.version, at = excluded.at, source = excluded.source`);
    this.write = this.db.transaction((records: readonly ConsentRecord[]) => {
      for (const r of records) {
        const now = current.get(r.user, r.kind) as { granted: number; version: string } | undefined;
        if (now && (now.granted === 1) === r.granted && now.version === r.version) continue;
        append.run(r.user, r.kind, r.granted ? 1 : 0, r.version, r.at, r.source);
        set.run(r.user, r.kind, r.granted ? 1 : 0, r.version, r.at, r.source);
      }
    });
  }

  async record(records: readonly ConsentRecord[]): Promise<void> {
    this.write(records);
  }

  async current(user: string): Promise<ConsentRecord[]> {
    return (this.db.prepare('SELECT * FROM consent_current WHERE user = ? ORDER BY kind').all(user) as Row[]).map(toRecord);
  }

  async history(user: string): Promise<ConsentRecord[]> {
    return (this.db.prepare('SELECT user, kind, granted, version, at, source FROM consent_history WHERE user = ? ORDER BY id').all(user) as Row[]).map(toRecord);
  }

  async usersWith(kind: ConsentKind, granted: boolean): Promise<string[]> {
    return (this.db.prepare('SELECT user FROM consent_current WHERE kind = ? AND granted = ? ORDER BY user').all(kind, granted ? 1 : 0) as { user: string }[]).map((r) => r.user);
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
