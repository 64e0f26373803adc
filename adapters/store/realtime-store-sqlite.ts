/**
 * Embedded RealtimeStore on SQLite (better-sqlite3 12). Every worker opens its own connection to the same
 * file; WAL mode lets readers run beside the single writer and busy_timeout queues writers briefly.
 * synchronous=NORMAL in WAL mode survives a process crash (our failure model); a power cut may lose the
 * last transactions, which is stated in the README.
 */
import type Database from 'better-sqlite3';
import { openSqlite } from '../sqlite/open-sqlite';
import { decode } from '@msgpack/msgpack';
import { sqlitePersonalData, type Erasure, type ErasureCounts, type PersonalExport } from '../privacy/personal-data';
import type { FrameRewrite, InboxSnapshot, OutboxNotification, RealtimeStore, RoomSnapshot, StoredRoomState, WriteBatch } from './realtime-store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS room_events (
  room TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, sender TEXT NOT NULL, frame BLOB NOT NULL, op_id TEXT,
  PRIMARY KEY (room, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS room_state (
  room TEXT PRIMARY KEY, owner TEXT, last_seq INTEGER NOT NULL DEFAULT 0, stream TEXT, stream_seq INTEGER NOT NULL DEFAULT 0,
  applied INTEGER NOT NULL DEFAULT -1) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS room_games (
  room TEXT NOT NULL, key TEXT NOT NULL, rev INTEGER NOT NULL, state TEXT, PRIMARY KEY (room, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notify_outbox (
  id TEXT PRIMARY KEY, user TEXT NOT NULL, kind TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS notify_outbox_at ON notify_outbox (at);
CREATE TABLE IF NOT EXISTS inbox (
  user TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, sender TEXT NOT NULL, text TEXT NOT NULL,
  PRIMARY KEY (user, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS inbox_state (
  user TEXT PRIMARY KEY, last_seq INTEGER NOT NULL DEFAULT 0, acked_seq INTEGER NOT NULL DEFAULT 0,
  applied INTEGER NOT NULL DEFAULT -1) WITHOUT ROWID;
`;

export class SqliteRealtimeStore implements RealtimeStore {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly applyBatch: (batch: WriteBatch) => void;

  constructor(file: string) {
    this.db = openSqlite(file, 'NORMAL');
    this.db.exec(SCHEMA);
    this.migrate();
    const db = this.db;
    this.stmts = {
      insertEvent: db.prepare('INSERT OR IGNORE INTO room_events (room, seq, ts, sender, frame, op_id) VALUES (?, ?, ?, ?, ?, ?)'),
      setStream: db.prepare(`INSERT INTO room_state (room, stream, stream_seq) VALUES (?, ?, ?)
        ON CONFLICT(room) DO UPDATE SET stream = excluded.stream, stream_seq = excluded.stream_seq`),
      streamGifts: db.prepare('SELECT op_id AS opId, seq FROM room_events WHERE room = ? AND seq > ? AND op_id IS NOT NULL ORDER BY seq'),
      bumpRoomSeq: db.prepare(`INSERT INTO room_state (room, last_seq) VALUES (?, ?)
        ON CONFLICT(room) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`),
      setOwner: db.prepare(`INSERT INTO room_state (room, owner) VALUES (?, ?)
        ON CONFLICT(room) DO UPDATE SET owner = COALESCE(owner, excluded.owner)`),
      setApplied: db.prepare(`INSERT INTO room_state (room, applied) VALUES (?, ?)
        ON CONFLICT(room) DO UPDATE SET applied = max(applied, excluded.applied)`),
      setGame: db.prepare(`INSERT INTO room_games (room, key, rev, state) VALUES (?, ?, ?, ?)
        ON CONFLICT(room, key) DO UPDATE SET rev = excluded.rev, state = excluded.state WHERE excluded.rev > room_games.rev`),
      games: db.prepare('SELECT key, rev, state FROM room_games WHERE room = ? AND state IS NOT NULL ORDER BY key'),
      addNotify: db.prepare('INSERT OR IGNORE INTO notify_outbox (id, user, kind, data, at) VALUES (?, ?, ?, ?, ?)'),
      prune: db.prepare('DELETE FROM room_events WHERE room = ? AND seq < ? AND op_id IS NULL'),
      redact: db.prepare('UPDATE room_events SET frame = ? WHERE room = ? AND seq = ?'),
      event: db.prepare('SELECT seq, frame FROM room_events WHERE room = ? AND seq = ?'),
      roomState: db.prepare('SELECT owner, last_seq AS lastSeq, stream, stream_seq AS streamSeq, applied FROM room_state WHERE room = ?'),
      history: db.prepare('SELECT seq, frame FROM room_events WHERE room = ? ORDER BY seq DESC LIMIT ?'),
      insertInbox: db.prepare('INSERT OR IGNORE INTO inbox (user, seq, ts, sender, text) VALUES (?, ?, ?, ?, ?)'),
      bumpInboxSeq: db.prepare(`INSERT INTO inbox_state (user, last_seq) VALUES (?, ?)
        ON CONFLICT(user) DO UPDATE SET last_seq = max(last_seq, excluded.last_seq)`),
      ackInbox: db.prepare(`INSERT INTO inbox_state (user, acked_seq) VALUES (?, ?)
        ON CONFLICT(user) DO UPDATE SET acked_seq = max(acked_seq, min(excluded.acked_seq, last_seq))`),
      inboxState: db.prepare('SELECT last_seq AS lastSeq, acked_seq AS ackedSeq, applied FROM inbox_state WHERE user = ?'),
      setInboxApplied: db.prepare(`INSERT INTO inbox_state (user, applied) VALUES (?, ?)
        ON CONFLICT(user) DO UPDATE SET applied = max(applied, excluded.applied)`),
      pending: db.prepare('SELECT user, seq, ts, sender AS "from", text FROM inbox WHERE user = ? AND seq > ? ORDER BY seq LIMIT ?'),
    };
    const s = this.stmts;
    this.applyBatch = db.transaction((batch: WriteBatch) => {
      for (const o of batch.roomOwners) s.setOwner.run(o.room, o.owner);
      for (const st of batch.roomStreams) s.setStream.run(st.room, st.stream, st.startSeq);
      for (const e of batch.roomEvents) {
        s.insertEvent.run(e.room, e.seq, e.ts, e.sender, e.frame, e.opId ?? null);
        s.bumpRoomSeq.run(e.room, e.seq);
      }
      for (const r of batch.roomRedactions) s.redact.run(r.frame, r.room, r.seq);
      for (const p of batch.roomPrunes) s.prune.run(p.room, p.belowSeq);
      for (const a of batch.roomApplied) s.setApplied.run(a.room, a.position);
      for (const g of batch.roomState) s.setGame.run(g.room, g.key, g.rev, g.state);
      for (const n of batch.notify) s.addNotify.run(n.id, n.user, n.kind, JSON.stringify(n.data), n.at);
      for (const m of batch.inbox) {
        s.insertInbox.run(m.user, m.seq, m.ts, m.from, m.text);
        s.bumpInboxSeq.run(m.user, m.seq);
      }
      for (const a of batch.inboxAcks) s.ackInbox.run(a.user, a.upTo);
      for (const a of batch.inboxApplied) s.setInboxApplied.run(a.user, a.position);
    });
  }

  /** Adds columns that later versions introduced to files written by earlier ones. */
  private migrate(): void {
    const has = (table: string, column: string) =>
      (this.db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).some((c) => c.name === column);
    if (!has('room_events', 'op_id')) this.db.exec('ALTER TABLE room_events ADD COLUMN op_id TEXT');
    if (!has('room_state', 'stream')) this.db.exec('ALTER TABLE room_state ADD COLUMN stream TEXT');
    if (!has('room_state', 'stream_seq')) this.db.exec('ALTER TABLE room_state ADD COLUMN stream_seq INTEGER NOT NULL DEFAULT 0');
    if (!has('room_state', 'applied')) this.db.exec('ALTER TABLE room_state ADD COLUMN applied INTEGER NOT NULL DEFAULT -1');
    if (!has('inbox_state', 'applied')) this.db.exec('ALTER TABLE inbox_state ADD COLUMN applied INTEGER NOT NULL DEFAULT -1');
  }

  async roomEvent(room: string, seq: number): Promise<{ seq: number; frame: Uint8Array } | null> {
    const row = this.stmts.event.get(room, seq) as { seq: number; frame: Buffer } | undefined;
    return row ? { seq: row.seq, frame: new Uint8Array(row.frame) } : null;
  }

  async loadRoom(room: string, historyLimit: number): Promise<RoomSnapshot> {
    const state = this.stmts.roomState.get(room) as { owner: string | null; lastSeq: number; stream: string | null; streamSeq: number; applied: number } | undefined;
    const rows = this.stmts.history.all(room, historyLimit) as { seq: number; frame: Buffer }[];
    rows.reverse();
    const stream = state?.stream ?? null;
    return {
      owner: state?.owner ?? null,
      seq: state?.lastSeq ?? 0,
      stream,
      streamGifts: stream === null ? [] : (this.stmts.streamGifts.all(room, state!.streamSeq) as { opId: string; seq: number }[]),
      history: rows.map((r) => ({ seq: r.seq, frame: new Uint8Array(r.frame) })),
      applied: state?.applied ?? -1,
      state: this.stmts.games.all(room) as StoredRoomState[],
    };
  }

  async loadInbox(user: string, limit: number): Promise<InboxSnapshot> {
    const state = this.stmts.inboxState.get(user) as { lastSeq: number; ackedSeq: number; applied: number } | undefined;
    const ackedSeq = state?.ackedSeq ?? 0;
    const pending = this.stmts.pending.all(user, ackedSeq, limit) as InboxSnapshot['pending'];
    return { lastSeq: state?.lastSeq ?? 0, ackedSeq, pending, applied: state?.applied ?? -1 };
  }

  async commit(batch: WriteBatch): Promise<void> {
    this.applyBatch(batch);
  }

  async pendingNotifications(limit: number): Promise<OutboxNotification[]> {
    return (this.db.prepare('SELECT id, user, kind, data, at FROM notify_outbox ORDER BY at, id LIMIT ?').all(limit) as (Omit<OutboxNotification, 'data'> & { data: string })[])
      .map((r) => ({ ...r, data: JSON.parse(r.data) as OutboxNotification['data'] }));
  }

  async ackNotifications(ids: readonly string[]): Promise<void> {
    const del = this.db.prepare('DELETE FROM notify_outbox WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) del.run(id);
    })();
  }

  async exportUser(user: string): Promise<PersonalExport> {
    const events = this.db.prepare('SELECT room, seq, ts, frame FROM room_events WHERE sender = ? ORDER BY room, seq').all(user) as { room: string; seq: number; ts: number; frame: Uint8Array }[];
    return {
      room_messages: events.map((e) => ({ room: e.room, seq: e.seq, ts: e.ts, frame: decode(e.frame) })),
      direct_messages_received: this.db.prepare('SELECT sender AS "from", seq, ts, text FROM inbox WHERE user = ? ORDER BY seq').all(user),
      direct_messages_sent: this.db.prepare('SELECT user AS "to", ts, text FROM inbox WHERE sender = ? ORDER BY ts').all(user),
    };
  }

  async eraseUser(e: Erasure, rewrite: FrameRewrite): Promise<ErasureCounts> {
    const counts: ErasureCounts = {};
    const events = this.db.prepare('SELECT room, seq, ts, sender, frame FROM room_events WHERE sender = ? OR instr(frame, ?) > 0')
      .all(e.user, Buffer.from(e.user)) as { room: string; seq: number; ts: number; sender: string; frame: Uint8Array }[];
    const rest = await sqlitePersonalData(this.db, [
      { table: 'inbox', section: null, owner: ['user'], erase: 'delete' },
      { table: 'inbox_state', section: null, owner: ['user'], erase: 'delete' },
      { table: 'notify_outbox', section: null, owner: ['user'], erase: 'delete', json: ['data'] },
      { table: 'notify_outbox', section: null, owner: ['id'], erase: 'pseudonymise' },
      { table: 'room_state', section: null, owner: ['owner'], erase: 'pseudonymise' },
      { table: 'room_games', section: null, owner: [], erase: 'delete', json: ['state'] },
    ]).eraseUser(e);
    this.db.transaction(() => {
      const update = this.db.prepare('UPDATE room_events SET frame = ?, sender = ? WHERE room = ? AND seq = ?');
      for (const ev of events) update.run(rewrite(ev), ev.sender === e.user ? e.pseudonym : ev.sender, ev.room, ev.seq);
      const sent = this.db.prepare("UPDATE inbox SET sender = ?, text = '' WHERE sender = ?").run(e.pseudonym, e.user).changes;
      if (sent > 0) counts.inbox_sent = sent;
    })();
    if (events.length > 0) counts.room_events = events.length;
    return { ...rest, ...counts };
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

export const sqliteStoreSatisfiesPort = SqliteRealtimeStore satisfies new (file: string) => RealtimeStore;
