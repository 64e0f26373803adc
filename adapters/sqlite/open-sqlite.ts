/**
 * Opens an embedded SQLite file the way every adapter here wants it: folder created, WAL (readers beside
 * the writer, several threads and processes on one file), a busy timeout so writers queue briefly, and
 * the durability the caller asks for: NORMAL survives a process crash, FULL also a power cut (money).
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
  return db;
}
