/**
 * A short mutual exclusion between processes on MongoDB, for read-modify-write on one document that
 * FerretDB 1.x would not apply atomically (a daily stake cap: read the sum, check, write). The lock is a
 * document inserted under the key (an insert is refused twice on both engines); others wait and retry.
 * A lock older than `staleMs` was left by a process that died holding it: the first waiter to insert the
 * takeover marker for that lock (again an insert) removes it.
 */
import type { Collection } from 'mongodb';
import { insertOnce } from './insert-once';

export interface LockDoc { _id: string; at: number; holder: string }

/** `with` could not have the lock within `waitMs`. */
export class LockBusyError extends Error {}

export class MongoLock {
  private seq = 0;

  constructor(private readonly locks: Collection<LockDoc>, private readonly opts: { staleMs: number; waitMs: number } = { staleMs: 10_000, waitMs: 5_000 }) {}

  /** Runs `work` while holding `key`; throws when the lock could not be had within `waitMs`. */
  async with<T>(key: string, work: () => Promise<T>): Promise<T> {
    const holder = `${process.pid}:${++this.seq}:${Math.random().toString(36).slice(2)}`;
    const start = Date.now();
    for (let pause = 2; ; pause = Math.min(50, pause * 2)) {
      const now = Date.now();
      if (await insertOnce(this.locks, { _id: key, at: now, holder })) break;
      const held = await this.locks.findOne({ _id: key });
      if (held && now - held.at > this.opts.staleMs && await insertOnce(this.locks, { _id: `${key}\n#stale:${held.holder}`, at: now, holder })) {
        await this.locks.deleteOne({ _id: key, holder: held.holder });
        await this.locks.deleteOne({ _id: `${key}\n#stale:${held.holder}` });
        continue;
      }
      if (now - start > this.opts.waitMs) throw new LockBusyError(`lock ${key} is busy`);
      await new Promise((r) => setTimeout(r, pause + Math.random() * pause));
    }
    try {
      return await work();
    } finally {
      await this.locks.deleteOne({ _id: key, holder });
    }
  }

  /** `with`, but null instead of waiting or throwing when someone else holds `key`. */
  async tryWith<T>(key: string, work: () => Promise<T>): Promise<T | null> {
    let ran = false;
    try {
      return await this.with(key, () => {
        ran = true;
        return work();
      });
    } catch (err) {
      if (!ran && err instanceof LockBusyError) return null;
      throw err;
    }
  }
}
