/**
 * Group commit for an embedded SQLite store: the writes submitted during one event-loop turn share one
 * `BEGIN IMMEDIATE` transaction, so one commit (one fsync under synchronous = FULL) makes all of them
 * durable. Each write runs in its own savepoint: one that throws is rolled back alone and its caller gets
 * the error, the others commit. No promise settles before the commit that holds its write.
 */
import type Database from 'better-sqlite3';

interface Queued<I, R> {
  readonly item: I;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

export class GroupCommit<I, R> {
  private queue: Queued<I, R>[] = [];
  private readonly commitAll: Database.Transaction<(batch: readonly Queued<I, R>[]) => (R | Error)[]>;

  constructor(private readonly db: Database.Database, write: (item: I) => R) {
    // Nested inside commitAll, better-sqlite3 runs this transaction as a savepoint.
    const one = db.transaction(write);
    this.commitAll = db.transaction((batch: readonly Queued<I, R>[]) => batch.map((q) => {
      try {
        return one(q.item);
      } catch (e) {
        return e instanceof Error ? e : new Error(String(e));
      }
    }));
  }

  submit(item: I): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.queue.push({ item, resolve, reject }) === 1) setImmediate(() => this.flush());
    });
  }

  /** Commits what is queued now (also called before the database closes). */
  flush(): void {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    if (!this.db.open) {
      for (const q of batch) q.reject(new Error('store closed'));
      return;
    }
    let results: (R | Error)[];
    try {
      // IMMEDIATE takes the write lock first, so reads inside each write see the state it changes.
      results = this.commitAll.immediate(batch);
    } catch (e) {
      for (const q of batch) q.reject(e);
      return;
    }
    batch.forEach((q, i) => {
      const r = results[i]!;
      if (r instanceof Error) q.reject(r);
      else q.resolve(r);
    });
  }
}
