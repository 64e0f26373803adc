/**
 * Opens an embedded SQLite file the way every adapter here wants it: folder created, WAL (readers beside
 * the writer, several threads and processes on one file), a busy timeout so writers queue briefly, and
 * the durability the caller asks for: NORMAL survives a process crash, FULL also a power cut (money).
 *
 * `prepare` is memoised by SQL text: the adapters write `db.prepare(sql).get(…)` where they use it, and
 * compiling the statement again on every call cost more than running it (a profile of the gift path had
 * `prepare` at 6% of the main thread). Statements here are never put in pluck/raw/expand mode or iterated,
 * which is what makes sharing one compiled statement per text safe.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export function openSqlite(file: string, durability: 'NORMAL' | 'FULL'): Database.Database {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability}`);
  db.pragma('busy_timeout = 10000');
  memoisePrepare(db);
  return db;
}

/** Enough for every fixed statement of an adapter; texts built per call (IN lists) evict the oldest. */
const STATEMENTS_KEPT = 256;

function memoisePrepare(db: Database.Database): void {
  const compile = db.prepare.bind(db);
  const kept = new Map<string, Database.Statement>();
  db.prepare = ((sql: string) => {
    let statement = kept.get(sql);
    if (!statement) {
      statement = compile(sql);
      if (kept.size >= STATEMENTS_KEPT) kept.delete(kept.keys().next().value!);
      kept.set(sql, statement);
    }
    return statement;
  }) as typeof db.prepare;
}
