/** Embedded RoomDirectory on SQLite. */
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalData, type PersonalExport } from '../privacy/personal-data';
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import type { RoomDirectory, RoomListing } from './room-directory';

interface Row { id: string; owner: string; title: string; country: string | null; locale: string | null; live: number; started_at: number; ended_at: number | null; allowed_countries: string | null }
const toListing = (r: Row): RoomListing => ({
  id: r.id, owner: r.owner, title: r.title, country: r.country, locale: r.locale, live: r.live === 1, startedAt: r.started_at, endedAt: r.ended_at,
  allowedCountries: r.allowed_countries ? JSON.parse(r.allowed_countries) as string[] : null,
});

/** The rooms a user hosted (titles are theirs). */
const PERSONAL = [
  { table: 'rooms', section: 'rooms_hosted', owner: ['owner'], erase: 'delete', json: ['allowed_countries'] },
] as const;

export class SqliteRoomDirectory implements RoomDirectory {
  private readonly personal: PersonalData;
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.personal = sqlitePersonalData(this.db, PERSONAL);
    this.db.exec(`CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, owner TEXT NOT NULL, title TEXT NOT NULL, country TEXT, locale TEXT,
      live INTEGER NOT NULL, started_at INTEGER NOT NULL, ended_at INTEGER) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS rooms_live ON rooms (live, country, locale);
      CREATE INDEX IF NOT EXISTS rooms_owner_live ON rooms (owner, live);`);
    // Added with region-restricted rooms; older files gain the column.
    if (!(this.db.prepare('PRAGMA table_info(rooms)').all() as { name: string }[]).some((c) => c.name === 'allowed_countries')) {
      this.db.exec('ALTER TABLE rooms ADD COLUMN allowed_countries TEXT');
    }
  }

  async create(r: RoomListing): Promise<'created' | { liveRoom: string }> {
    // One synchronous transaction: no other create can slip between the check and the insert.
    return this.db.transaction((): 'created' | { liveRoom: string } => {
      const live = this.db.prepare('SELECT id FROM rooms WHERE owner = ? AND live = 1 LIMIT 1').get(r.owner) as { id: string } | undefined;
      if (live && r.live) return { liveRoom: live.id };
      this.db.prepare('INSERT INTO rooms (id, owner, title, country, locale, live, started_at, ended_at, allowed_countries) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(r.id, r.owner, r.title, r.country, r.locale, r.live ? 1 : 0, r.startedAt, r.endedAt, r.allowedCountries?.length ? JSON.stringify(r.allowedCountries) : null);
      return 'created';
    }).immediate();
  }

  async get(id: string): Promise<RoomListing | null> {
    const r = this.db.prepare('SELECT * FROM rooms WHERE id = ?').get(id) as Row | undefined;
    return r ? toListing(r) : null;
  }

  async end(id: string, owner: string, now: number): Promise<boolean> {
    return this.db.prepare('UPDATE rooms SET live = 0, ended_at = ? WHERE id = ? AND owner = ? AND live = 1').run(now, id, owner).changes === 1;
  }

  async liveRoomOf(owner: string): Promise<RoomListing | null> {
    const row = this.db.prepare('SELECT * FROM rooms WHERE owner = ? AND live = 1 LIMIT 1').get(owner) as Row | undefined;
    return row ? toListing(row) : null;
  }

  async live(f: { country?: string; locale?: string }): Promise<RoomListing[]> {
    return (this.db.prepare('SELECT * FROM rooms WHERE live = 1 AND (@country IS NULL OR country = @country) AND (@locale IS NULL OR locale = @locale)')
      .all({ country: f.country ?? null, locale: f.locale ?? null }) as Row[]).map(toListing);
  }

  exportUser(user: string): Promise<PersonalExport> {
    return this.personal.exportUser(user);
  }

  eraseUser(e: Erasure): Promise<ErasureCounts> {
    return this.personal.eraseUser(e);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export const sqliteRoomDirectorySatisfiesPort = SqliteRoomDirectory satisfies new (file: string) => RoomDirectory;
