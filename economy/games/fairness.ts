/**
 * Provably fair outcomes. Before a round opens the server commits to a secret seed by publishing
 * `SHA-256(serverSeed)`; the outcome is drawn from `HMAC-SHA256(key = serverSeed, message = clientSeed:nonce)`,
 * where the client seed comes from the players (or the round) after the commitment, so neither side can
 * steer it alone; at settlement the seed is revealed and anyone can recompute both. docs/games.md shows the
 * computation by hand.
 *
 * Drawing from the digest: the first 52 bits make a number in [0, 1) with no float bias; a whole number in
 * [0, n) uses rejection sampling over successive 32-bit words (and a new HMAC round when a digest runs out),
 * so every value is exactly equally likely.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export interface Commitment {
  /** Secret until settlement: 32 random bytes, hex. */
  readonly serverSeed: string;
  /** Published before the round opens: SHA-256 of the seed's bytes, hex. */
  readonly serverSeedHash: string;
}

export function newCommitment(): Commitment {
  const serverSeed = randomBytes(32).toString('hex');
  return { serverSeed, serverSeedHash: hashSeed(serverSeed) };
}

export function hashSeed(serverSeed: string): string {
  return createHash('sha256').update(Buffer.from(serverSeed, 'hex')).digest('hex');
}

/** The round's digest: HMAC-SHA256 keyed by the seed's bytes over `clientSeed:nonce` (UTF-8); `extra` > 0 continues the stream. */
export function digest(serverSeed: string, clientSeed: string, nonce: number, extra = 0): Buffer {
  return createHmac('sha256', Buffer.from(serverSeed, 'hex')).update(extra === 0 ? `${clientSeed}:${nonce}` : `${clientSeed}:${nonce}:${extra}`).digest();
}

/** A uniform number in [0, 1) from the first 52 bits of the digest. */
export function unitFloat(serverSeed: string, clientSeed: string, nonce: number): number {
  const d = digest(serverSeed, clientSeed, nonce);
  const high = d.readUInt32BE(0);
  const low = d.readUInt32BE(4) >>> 12; // 20 more bits: 52 in all
  return (high * 2 ** 20 + low) / 2 ** 52;
}

/** A uniform whole number in [0, n), exactly (rejection sampling; n ≤ 2^32). */
export function uniformInt(serverSeed: string, clientSeed: string, nonce: number, n: number): number {
  if (!Number.isSafeInteger(n) || n < 1 || n > 2 ** 32) throw new Error('n must be a whole number from 1 to 2^32');
  const limit = 2 ** 32 - (2 ** 32 % n); // values at or above this would favour the low results
  for (let extra = 0; ; extra++) {
    const d = digest(serverSeed, clientSeed, nonce, extra);
    for (let i = 0; i + 4 <= d.length; i += 4) {
      const v = d.readUInt32BE(i);
      if (v < limit) return v % n;
    }
  }
}

/** Checks a revealed seed against the commitment published before the round. */
export function seedMatches(serverSeed: string, serverSeedHash: string): boolean {
  if (!/^[0-9a-f]{64}$/.test(serverSeed) || !/^[0-9a-f]{64}$/.test(serverSeedHash)) return false;
  return timingSafeEqual(Buffer.from(hashSeed(serverSeed), 'hex'), Buffer.from(serverSeedHash, 'hex'));
}
