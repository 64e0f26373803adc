/**
 * Walks every SQLite file under a server's data folder, every table, every row and column (text and
 * binary), and reports where any of `needles` occurs. It knows nothing of the stores' schemas, so a
 * table an erasure forgot is found as surely as one it remembered.
 */
import Database from 'better-sqlite3';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

function sqliteFiles(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sqliteFiles(path, out);
    else if (name.endsWith('.sqlite')) out.push(path);
  }
  return out;
}

/** `file table.column: value` for every cell holding a needle; empty when the folder is clean. */
export function findInSqlite(dataDir: string, needles: readonly string[]): string[] {
  const found: string[] = [];
  const raw = needles.map((n) => Buffer.from(n));
  for (const file of sqliteFiles(dataDir)) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
      for (const table of tables) {
        for (const row of db.prepare(`SELECT * FROM "${table}"`).iterate() as Iterable<Record<string, unknown>>) {
          for (const [column, value] of Object.entries(row)) {
            const hit = typeof value === 'string' ? needles.some((n) => value.includes(n))
              : Buffer.isBuffer(value) ? raw.some((n) => value.includes(n)) : false;
            if (hit) found.push(`${relative(dataDir, file)} ${table}.${column}: ${String(Buffer.isBuffer(value) ? value.toString('latin1') : value).slice(0, 160)}`);
          }
        }
      }
    } finally {
      db.close();
    }
  }
  return found;
}
