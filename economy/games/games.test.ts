import t from 'tap';
import { createHash, createHmac } from 'node:crypto';
import { digest, hashSeed, newCommitment, seedMatches, uniformInt, unitFloat } from './fairness';
import { WHEEL, payoutOf, rtpOf, segmentRtps, spin, type PayoutTable } from './payout-table';

t.test('the shipped wheel returns exactly 95% on every bet, computed with integers', async (t) => {
  const rtps = segmentRtps(WHEEL);
  t.same([...rtps.keys()], ['x2', 'x5', 'x10', 'x20'], 'the house segment takes no bets');
  for (const [id, r] of rtps) t.ok(r.numerator * 100n === r.denominator * 95n, `${id}: ${r.numerator}/${r.denominator} = 95% exactly`);
  t.same(rtpOf(WHEEL).value, 0.95);
  const unfair: PayoutTable = { game: 'u', segments: [{ id: 'a', weight: 1, multiplierBps: 20_000 }, { id: 'b', weight: 1, multiplierBps: 15_000 }] };
  t.equal(rtpOf(unfair).value, 1, 'a table\'s RTP is its best bet (an unfair table is visible)');
  t.throws(() => rtpOf({ game: 'z', segments: [{ id: 'a', weight: 0, multiplierBps: 1 }] }), /positive whole weight/);
});

t.test('commit, draw and verify: an independent HMAC computation reproduces every outcome', async (t) => {
  const c = newCommitment();
  t.match(c.serverSeed, /^[0-9a-f]{64}$/);
  t.equal(c.serverSeedHash, createHash('sha256').update(Buffer.from(c.serverSeed, 'hex')).digest('hex'), 'the commitment is SHA-256 of the seed bytes');
  t.ok(seedMatches(c.serverSeed, c.serverSeedHash));
  t.notOk(seedMatches(newCommitment().serverSeed, c.serverSeedHash), 'another seed does not match');
  t.same(digest(c.serverSeed, 'alice', 7), createHmac('sha256', Buffer.from(c.serverSeed, 'hex')).update('alice:7').digest());
  // Known vector: a seed of 32 zero bytes, client seed "halobuzz", nonce 1.
  const zero = '00'.repeat(32);
  const expected = createHmac('sha256', Buffer.alloc(32)).update('halobuzz:1').digest();
  t.equal(unitFloat(zero, 'halobuzz', 1), (expected.readUInt32BE(0) * 2 ** 20 + (expected.readUInt32BE(4) >>> 12)) / 2 ** 52);
  t.equal(uniformInt(zero, 'halobuzz', 1, 400), expected.readUInt32BE(0) % 400, 'the first word is used when it is below the rejection limit');
  const landed = spin(WHEEL, zero, 'halobuzz', 1);
  t.ok(WHEEL.segments.includes(landed));
  t.equal(payoutOf(100, landed, landed), Math.floor((100 * landed.multiplierBps) / 10_000));
  t.equal(payoutOf(100, WHEEL.segments[0]!, WHEEL.segments[4]!), 0, 'a losing bet pays nothing');
});

t.test('uniformInt is exactly uniform: rejection removes modulo bias (n = 3 × 2^30 would favour low values by 2×)', async (t) => {
  const n = 3 * 2 ** 30;
  let low = 0;
  const draws = 20_000;
  for (let i = 0; i < draws; i++) if (uniformInt('11'.repeat(32), 'bias', i, n) < 2 ** 30) low++;
  // Without rejection, values below 2^30 would come up half the time; with it, a third.
  t.ok(Math.abs(low / draws - 1 / 3) < 0.02, `${(low / draws).toFixed(3)} of draws fall in the lowest third`);
  t.throws(() => uniformInt('11'.repeat(32), 'x', 1, 0), /whole number/);
  t.equal(hashSeed('ab'.repeat(32)).length, 64);
});
