/**
 * The one write both MongoDB and FerretDB 1.x refuse twice: an insert under a unique `_id`. FerretDB's
 * SQLite backend applies a filtered update as read-modify-write in its proxy, so two concurrent
 * conditional updates (`{used_at: null}` → now) can both succeed; measured here: five refreshes racing
 * with one token rotated it twice in 25 of 30 rounds. Every "at most once" in the MongoDB stores is
 * therefore an insert of a marker document (as the ledger and the moderation store do).
 */
import { MongoServerError, type Collection, type Document, type OptionalUnlessRequiredId } from 'mongodb';

/** Inserts `doc`; false when a document with its `_id` exists. */
export async function insertOnce<T extends Document>(col: Collection<T>, doc: OptionalUnlessRequiredId<T>): Promise<boolean> {
  try {
    await col.insertOne(doc);
    return true;
  } catch (err) {
    if (err instanceof MongoServerError && err.code === 11000) return false;
    throw err;
  }
}
