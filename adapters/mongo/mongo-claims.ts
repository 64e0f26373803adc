/**
 * Unique constraints across documents on MongoDB without multi-document transactions (FerretDB 1.x has
 * none, nor partial unique indexes): a constraint is a claim document keyed by what must be unique
 * (`ref:stripe:pi_1`, `open:u_1`), naming the document that holds it. A writer claims first and writes
 * its document second, so of two racing writers one gets the claim and the other is refused.
 *
 * A process can die between the two writes, or between ending a document's need for the claim and
 * deleting it. So a claim is taken over when its holder says it no longer needs it (`released`), or when
 * the holder never appeared and the claim is older than `staleMs` (`gone`): a younger claim without its
 * document is a write in flight, and holds. Taking over is decided by an insert too (a takeover marker
 * per stale claim), because FerretDB 1.x does not apply a conditional update atomically.
 */
import type { Collection } from 'mongodb';
import { insertOnce } from './insert-once';

export interface ClaimDoc {
  _id: string;
  owner: string;
  at: number;
}

/** What the holder of a claim says: it still needs it, it exists but no longer needs it, or it is not there. */
export type Holding = 'held' | 'released' | 'gone';

const STALE_MS = 30_000;

export class MongoClaims {
  constructor(private readonly claims: Collection<ClaimDoc>, private readonly holding: (owner: string, key: string) => Promise<Holding>, private readonly staleMs = STALE_MS) {}

  /** Takes `key` for `owner`; true when it is (or already was) this owner's. */
  async claim(key: string, owner: string, now = Date.now()): Promise<boolean> {
    for (let attempt = 0; attempt < 3; attempt++) {
      if (await insertOnce(this.claims, { _id: key, owner, at: now })) return true;
      const held = await this.claims.findOne({ _id: key });
      if (!held) continue; // released meanwhile
      if (held.owner === owner) return true;
      const state = await this.holding(held.owner, key);
      if (state === 'held' || (state === 'gone' && now - held.at < this.staleMs)) return false;
      // Stale: one writer wins the takeover marker, removes the claim and claims afresh; the others are refused.
      const marker = `${key}\n#takeover:${held.owner}:${held.at}`;
      if (!(await insertOnce(this.claims, { _id: marker, owner, at: now }))) return false;
      await this.claims.deleteOne({ _id: key, owner: held.owner });
      const mine = await insertOnce(this.claims, { _id: key, owner, at: now });
      await this.claims.deleteOne({ _id: marker });
      return mine;
    }
    return false;
  }

  /** Gives `key` up, if `owner` holds it. */
  async release(key: string, owner: string): Promise<void> {
    await this.claims.deleteOne({ _id: key, owner });
  }

  /** Claims every key, or none: on a refusal the keys this call took are given up again. */
  async claimAll(keys: readonly string[], owner: string, now = Date.now()): Promise<boolean> {
    const taken: string[] = [];
    for (const key of keys) {
      const before = await this.claims.findOne({ _id: key, owner }, { projection: { _id: 1 } });
      if (await this.claim(key, owner, now)) {
        if (!before) taken.push(key);
        continue;
      }
      for (const k of taken) await this.release(k, owner);
      return false;
    }
    return true;
  }
}
