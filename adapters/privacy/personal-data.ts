/**
 * What every store holding personal data can do for the data subject: hand over what it holds about one
 * user (export) and remove it (erasure). Each store says, table by table, which rows are the user's and
 * whether erasure deletes them or pseudonymises them (money records a law requires to be kept); the
 * helpers here run that description against SQLite or MongoDB so the two engines cannot drift.
 */
import type Database from 'better-sqlite3';
import type { Collection, Document, Filter } from 'mongodb';

/** Who is erased: the id, what replaces it where records are kept, and names that replace nothing but must go. */
export interface Erasure {
  readonly user: string;
  /** Replaces the id in records that are kept (same shape as an id, unlinkable to it). */
  readonly pseudonym: string;
  /** Other identifiers of the person (email, display name): replaced by `ERASED_NAME` where they are a whole value. */
  readonly aliases: readonly string[];
}

export const ERASED_NAME = '(erased)';

/** One store's sections: each a list of readable records. */
export type PersonalExport = Record<string, unknown[]>;
/** One store's erasure: rows deleted or pseudonymised, by table. */
export type ErasureCounts = Record<string, number>;

export interface PersonalData {
  exportUser(user: string): Promise<PersonalExport>;
  eraseUser(erasure: Erasure): Promise<ErasureCounts>;
}

/** A table (or collection) holding personal data, and what export and erasure do with it. */
export interface PersonalTable {
  readonly table: string;
  /** The export's section name; null: erased but never exported (password hashes, token hashes). */
  readonly section: string | null;
  /** Columns (fields) holding a user id: a row is the user's when any of them equals it. */
  readonly owner: readonly string[];
  /**
   * `delete` the user's rows; `pseudonymise` them (the id replaced in the owner columns, names removed):
   * for records kept for accounting and tax.
   */
  readonly erase: 'delete' | 'pseudonymise';
  /** Columns left out of the export (secrets). */
  readonly omit?: readonly string[];
  /** JSON text columns: parsed in the export; on erasure, searched in every row for the id and the aliases. */
  readonly json?: readonly string[];
  /**
   * MongoDB keeps JSON as subdocuments, which a text search cannot see into: the dotted paths inside them
   * that may hold a user id (`data.from`). Where given, these find the documents to scrub.
   */
  readonly mentions?: readonly string[];
}

/** Replaces the id inside every string and the aliases where they are a whole string. */
export function scrub(value: unknown, e: Erasure): unknown {
  if (typeof value === 'string') {
    if (e.aliases.includes(value)) return ERASED_NAME;
    return value.includes(e.user) ? value.split(e.user).join(e.pseudonym) : value;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, e));
  if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array) && !(value instanceof Date)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k.includes(e.user) ? k.split(e.user).join(e.pseudonym) : k] = scrub(v, e);
    return out;
  }
  return value;
}

function parsed(row: Record<string, unknown>, t: PersonalTable): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    if (t.omit?.includes(k)) continue;
    if (t.json?.includes(k) && typeof v === 'string') {
      try {
        out[k] = JSON.parse(v);
      } catch {
        out[k] = v;
      }
    } else out[k] = v;
  }
  return out;
}

/** Export and erasure of `tables` in one SQLite file; erasure runs in one transaction. */
export function sqlitePersonalData(db: Database.Database, tables: readonly PersonalTable[]): PersonalData {
  const ownedBy = (t: PersonalTable) => (t.owner.length === 0 ? '0' : t.owner.map((c) => `${c} = @user`).join(' OR '));
  return {
    exportUser: async (user) => {
      const out: PersonalExport = {};
      for (const t of tables) {
        if (!t.section) continue;
        const rows = db.prepare(`SELECT * FROM ${t.table} WHERE ${ownedBy(t)}`).all({ user }) as Record<string, unknown>[];
        (out[t.section] ??= []).push(...rows.map((r) => parsed(r, t)));
      }
      return out;
    },
    eraseUser: async (e) => {
      const counts: ErasureCounts = {};
      db.transaction(() => {
        for (const t of tables) {
          let n = 0;
          // Others' rows that mention the user (a notification "alice followed you") keep their meaning.
          for (const col of t.json ?? []) {
            // By value, not by row id (WITHOUT ROWID tables have none): the rewrite depends on the value only.
            const values = db.prepare(`SELECT DISTINCT ${col} AS v FROM ${t.table} WHERE instr(${col}, @user) > 0`).all({ user: e.user }) as { v: string }[];
            const update = db.prepare(`UPDATE ${t.table} SET ${col} = ? WHERE ${col} = ?`);
            for (const { v } of values) {
              let value: unknown;
              try {
                value = JSON.parse(v);
              } catch {
                value = v;
              }
              const next = scrub(value, e);
              n += update.run(typeof next === 'string' ? next : JSON.stringify(next), v).changes;
            }
          }
          if (t.erase === 'delete') {
            n += db.prepare(`DELETE FROM ${t.table} WHERE ${ownedBy(t)}`).run({ user: e.user }).changes;
          } else {
            // The id may be part of a value (`user:u_…`), so it is replaced wherever it occurs.
            const sets = t.owner.map((c) => `${c} = replace(${c}, @user, @pseudonym)`).join(', ');
            const where = t.owner.map((c) => `instr(${c}, @user) > 0`).join(' OR ');
            n += db.prepare(`UPDATE ${t.table} SET ${sets} WHERE ${where}`).run({ user: e.user, pseudonym: e.pseudonym }).changes;
          }
          if (n > 0) counts[t.table] = (counts[t.table] ?? 0) + n;
        }
      })();
      return counts;
    },
  };
}

/**
 * The same over MongoDB collections (`table` names the collection, columns are fields). Documents are
 * rewritten one at a time: FerretDB has no multi-document transactions, and each rewrite is idempotent,
 * so an erasure interrupted part-way is finished by running it again.
 */
export function mongoPersonalData(collections: (name: string) => Collection<Document>, tables: readonly PersonalTable[]): PersonalData {
  const ownedBy = (t: PersonalTable, user: string): Filter<Document> => (t.owner.length === 0 ? { _id: { $in: [] } } : { $or: t.owner.map((f) => ({ [f]: user })) });
  return {
    exportUser: async (user) => {
      const out: PersonalExport = {};
      for (const t of tables) {
        if (!t.section) continue;
        const docs = await collections(t.table).find(ownedBy(t, user)).toArray();
        (out[t.section] ??= []).push(...docs.map((d) => {
          const { _id, ...rest } = d;
          return parsed({ ...(typeof _id === 'string' ? { _id } : {}), ...rest }, t);
        }));
      }
      return out;
    },
    eraseUser: async (e) => {
      const counts: ErasureCounts = {};
      for (const t of tables) {
        const col = collections(t.table);
        let n = 0;
        if (t.erase === 'delete') {
          n += (await col.deleteMany(ownedBy(t, e.user))).deletedCount;
        } else {
          const pattern = { $regex: escapeRegex(e.user) };
          for (const d of await col.find({ $or: t.owner.map((f) => ({ [f]: pattern })) }).toArray()) {
            const set: Document = {};
            for (const f of t.owner) if (typeof d[f] === 'string' && (d[f] as string).includes(e.user)) set[f] = (d[f] as string).split(e.user).join(e.pseudonym);
            if (set._id !== undefined) {
              // An _id cannot change: the document moves to the new one (a rerun after a crash finds the copy).
              try {
                await col.insertOne({ ...d, ...set });
              } catch (err) {
                if ((err as { code?: number }).code !== 11000) throw err;
              }
              await col.deleteOne({ _id: d._id });
            } else {
              await col.updateOne({ _id: d._id }, { $set: set });
            }
            n++;
          }
        }
        for (const field of t.json ?? []) {
          const mentioning: Filter<Document> = t.mentions ? { $or: t.mentions.map((path) => ({ [path]: e.user })) } : { [field]: { $regex: escapeRegex(e.user) } };
          for (const d of await col.find(mentioning).toArray()) {
            const v = d[field] as unknown;
            let value: unknown;
            try {
              value = typeof v === 'string' ? JSON.parse(v) : v;
            } catch {
              value = v;
            }
            const next = scrub(value, e);
            await col.updateOne({ _id: d._id }, { $set: { [field]: typeof v === 'string' && typeof next !== 'string' ? JSON.stringify(next) : next } });
            n++;
          }
        }
        if (n > 0) counts[t.table] = (counts[t.table] ?? 0) + n;
      }
      return counts;
    },
  };
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Runs several stores' exports (or erasures) as one. */
export function combinedPersonalData(parts: readonly PersonalData[]): PersonalData {
  return {
    exportUser: async (user) => {
      const out: PersonalExport = {};
      for (const p of parts) for (const [k, v] of Object.entries(await p.exportUser(user))) (out[k] ??= []).push(...v);
      return out;
    },
    eraseUser: async (e) => {
      const out: ErasureCounts = {};
      for (const p of parts) for (const [k, v] of Object.entries(await p.eraseUser(e))) out[k] = (out[k] ?? 0) + v;
      return out;
    },
  };
}
