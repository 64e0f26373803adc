/**
 * Sequence numbers for cursors that are unique across processes on MongoDB and FerretDB alike. A `$inc`
 * counter is atomic on MongoDB but not on FerretDB 1.x (it hands the same number to concurrent callers:
 * two follows on one seq, and a page cursor between them skips one). So a number is taken by inserting
 * it (`<name>:<n>` in one shared collection; an insert is refused twice on both engines), starting from
 * the time in µs: numbers rise with time, above any counter value used before.
 */
import type { Collection } from 'mongodb';
import { insertOnce } from './insert-once';

export class UniqueSeq {
  private last = 0;

  constructor(private readonly taken: Collection<{ _id: string }>, private readonly name: string) {}

  async next(): Promise<number> {
    let seq = Math.max(Date.now() * 1000, this.last + 1);
    while (!(await insertOnce(this.taken, { _id: `${this.name}:${seq}` }))) seq++;
    this.last = seq;
    return seq;
  }
}
