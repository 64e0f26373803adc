/** FollowStore on an embedded SQLite file (data/social.sqlite): the sequence is the table's rowid; counts are kept in the same transaction. */
import type Database from 'better-sqlite3';
import type { Erasure, ErasureCounts, PersonalExport } from '../privacy/personal-data';
import { openSqlite } from '../sqlite/open-sqlite';
import { BadCursorError, decodeCursor, encodeCursor, type FollowCounts, type FollowPage, type FollowStore } from './follow-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS follows (seq INTEGER PRIMARY KEY AUTOINCREMENT, follower TEXT NOT NULL, creator TEXT NOT NULL, since INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS follows_pair ON follows (follower, creator);
CREATE INDEX IF NOT EXISTS follows_creator ON follows (creator, seq);
CREATE INDEX IF NOT EXISTS follows_follower ON follows (follower, seq);
CREATE TABLE IF NOT EXISTS follow_counts (user TEXT PRIMARY KEY, followers INTEGER NOT NULL DEFAULT 0, following INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
`;

export class SqliteFollowStore implements FollowStore {
  private readonly db: Database.Database;
  private readonly add: (follower: string, creator: string, now: number) => boolean;
  private readonly remove: (follower: string, creator: string) => boolean;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.db.exec(SCHEMA);
    const db = this.db;
    const insert = db.prepare('INSERT OR IGNORE INTO follows (follower, creator, since) VALUES (?, ?, ?)');
    const del = db.prepare('DELETE FROM follows WHERE follower = ? AND creator = ?');
    const bump = db.prepare(`INSERT INTO follow_counts (user, followers, following) VALUES (?, ?, ?)
      ON CONFLICT(user) DO UPDATE SET followers = followers + excluded.followers, following = following + excluded.following`);
    this.add = db.transaction((follower: string, creator: string, now: number) => {
      if (insert.run(follower, creator, now).changes === 0) return false;
      bump.run(creator, 1, 0);
      bump.run(follower, 0, 1);
      return true;
    });
    this.remove = db.transaction((follower: string, creator: string) => {
      if (del.run(follower, creator).changes === 0) return false;
      bump.run(creator, -1, 0);
      bump.run(follower, 0, -1);
      return true;
    });
  }

  async follow(follower: string, creator: string, now: number): Promise<boolean> {
    return this.add(follower, creator, now);
  }

  async unfollow(follower: string, creator: string): Promise<boolean> {
    return this.remove(follower, creator);
  }

  async unlink(a: string, b: string): Promise<void> {
    this.remove(a, b);
    this.remove(b, a);
  }

  async isFollowing(follower: string, creator: string): Promise<boolean> {
    return this.db.prepare('SELECT 1 FROM follows WHERE follower = ? AND creator = ?').get(follower, creator) !== undefined;
  }

  async followers(creator: string, page: { limit: number; after?: string }): Promise<FollowPage> {
    return this.page('creator', 'follower', creator, page);
  }

  async following(user: string, page: { limit: number; after?: string }): Promise<FollowPage> {
    return this.page('follower', 'creator', user, page);
  }

  async counts(user: string): Promise<FollowCounts> {
    return (this.db.prepare('SELECT followers, following FROM follow_counts WHERE user = ?').get(user) as FollowCounts | undefined) ?? { followers: 0, following: 0 };
  }

  async exportUser(user: string): Promise<PersonalExport> {
    return {
      following: this.db.prepare('SELECT creator AS user, since FROM follows WHERE follower = ? ORDER BY seq').all(user),
      followers: this.db.prepare('SELECT follower AS user, since FROM follows WHERE creator = ? ORDER BY seq').all(user),
    };
  }

  /** Both directions go, through unfollow, so everyone else's counts stay true. */
  async eraseUser(e: Erasure): Promise<ErasureCounts> {
    const pairs = this.db.prepare('SELECT follower, creator FROM follows WHERE follower = ? OR creator = ?').all(e.user, e.user) as { follower: string; creator: string }[];
    this.db.transaction(() => {
      for (const p of pairs) this.remove(p.follower, p.creator);
      this.db.prepare('DELETE FROM follow_counts WHERE user = ?').run(e.user);
    })();
    return pairs.length > 0 ? { follows: pairs.length } : {};
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private page(by: 'creator' | 'follower', other: 'creator' | 'follower', id: string, page: { limit: number; after?: string }): FollowPage {
    const after = decodeCursor(page.after);
    if (after === null) throw new BadCursorError();
    const rows = this.db.prepare(`SELECT seq, ${other} AS user, since FROM follows WHERE ${by} = ? AND seq < ? ORDER BY seq DESC LIMIT ?`)
      .all(id, after ?? Number.MAX_SAFE_INTEGER, page.limit + 1) as { seq: number; user: string; since: number }[];
    const items = rows.slice(0, page.limit);
    return { items: items.map((r) => ({ user: r.user, since: r.since })), next: rows.length > page.limit ? encodeCursor(items.at(-1)!.seq) : null };
  }
}
