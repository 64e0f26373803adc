/**
 * Embedded RealtimeStore on SQLite (better-sqlite3 12). Every worker opens its own connection to the same
 * file; WAL mode lets readers run beside the single writer and busy_timeout queues writers briefly.
 * synchronous=NORMAL in WAL mode survives a process crash (our failure model); a power cut may lose the
 * last transactions, which is stated in the README.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { InboxSnapshot, RealtimeStore, RoomSnapshot, WriteBatch } from './realtime-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS room_events (
  room TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, sender TEXT NOT NULL, frame BLOB NOT NULL,
  PRIMARY KEY (room, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS room_state (
  room TEXT PRIMARY KEY, owner TEXT, last_seq INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox (
  user TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY (user, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox_state (
  user TEXT PRIMARY KEY, last_seq INTEGER NOT NULL DEFAULT 0, acked_seq INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;
`;

export class SqliteRealtimeStore implements RealtimeStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly applyBatch: (batch: WriteBatch) => void;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 10000');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmts = {
      insertEvent: db.prepare('INSERT OR IGNORE INTO room_events (room, seq, ts, sender, frame) VALUES (?, ?, ?, ?, ?)'),
      bumpRoomSeq: db.prepare(`INSERT INTO room_state (room, last_seq) VALUES (?, ?)
        ON CONFLICT(room) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`),
      setOwner: db.prepare(`INSERT INTO room_state (room, owner) VALUES (?, ?)
        ON CONFLICT(room) DO UPDATE SET owner = COALESCE(owner, excluded.owner)`),
      prune: db.prepare('DELETE FROM room_events WHERE room = ? AND seq < ?'),
      roomState: db.prepare('SELECT owner, last_seq AS lastSeq FROM room_state WHERE room = ?'),
      history: db.prepare('SELECT seq, frame FROM room_events WHERE room = ? ORDER BY seq DESC LIMIT ?'),
      insertInbox: db.prepare('INSERT OR IGNORE INTO inbox (user, seq, ts, sender, text) VALUES (?, ?, ?, ?, ?)'),
      bumpInboxSeq: db.prepare(`INSERT INTO inbox_state (user, last_seq) VALUES (?, ?)
        ON CONFLICT(user) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`),
      ackInbox: db.prepare(`INSERT INTO inbox_state (user, acked_seq) VALUES (?, ?)
        ON CONFLICT(user) DO UPDATE SET acked_seq = max(acked_seq, min(excluded.acked_seq, last_seq))`),
      inboxState: db.prepare('SELECT last_seq AS lastSeq, acked_seq AS ackedSeq FROM inbox_state WHERE user = ?'),
      pending: db.prepare('SELECT user, seq, ts, sender AS "from", text FROM inbox WHERE user = ? AND seq > ? ORDER BY seq LIMIT ?'),
    };
    const s = this.stmts;
    this.applyBatch = db.transaction((batch: WriteBatch) => {
      for (const o of batch.roomOwners) s.setOwner.run(o.room, o.owner);
      for (const e of batch.roomEvents) {
        s.insertEvent.run(e.room, e.seq, e.ts, e.sender, e.frame);
        s.bumpRoomSeq.run(e.room, e.seq);
      }
      for (const p of batch.roomPrunes) s.prune.run(p.room, p.belowSeq);
      for (const m of batch.inbox) {
        s.insertInbox.run(m.user, m.seq, m.ts, m.from, m.text);
        s.bumpInboxSeq.run(m.user, m.seq);
      }
      for (const a of batch.inboxAcks) s.ackInbox.run(a.user, a.upTo);
    });
  }

  async loadRoom(room: string, historyLimit: number): Promise<RoomSnapshot> {
    const state = this.stmts.roomState.get(room) as { owner: string | null; lastSeq: number } | undefined;
    const rows = this.stmts.history.all(room, historyLimit) as { seq: number; frame: Buffer }[];
    rows.reverse();
    return {
      owner: state?.owner ?? null,
      seq: state?.lastSeq ?? 0,
      history: rows.map((r) => ({ seq: r.seq, frame: new Uint8Array(r.frame) })),
    };
  }

  async loadInbox(user: string, limit: number): Promise<InboxSnapshot> {
    const state = this.stmts.inboxState.get(user) as { lastSeq: number; ackedSeq: number } | undefined;
    const ackedSeq = state?.ackedSeq ?? 0;
    const pending = this.stmts.pending.all(user, ackedSeq, limit) as InboxSnapshot['pending'];
    return { lastSeq: state?.lastSeq ?? 0, ackedSeq, pending };
  }

  async commit(batch: WriteBatch): Promise<void> {
    this.applyBatch(batch);
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export const sqliteStoreSatisfiesPort = SqliteRealtimeStore satisfies new (file: string) => RealtimeStore;
