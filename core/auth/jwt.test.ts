import t from 'tap';
import { createHmac } from 'node:crypto';
import { signAccessToken, verifyAccessToken } from './jwt';

const secret = 'x'.repeat(40);
const opts = { secret, issuer: 'halobuzz', audience: 'halobuzz-realtime', now: 1_000_000 };
const token = (over: Partial<{ ttlSec: number; audience: string; issuer: string; now: number }> = {}) =>
  signAccessToken({ sub: 'alice', sid: 's1', ttlSec: over.ttlSec ?? 60, issuer: over.issuer ?? 'halobuzz', audience: over.audience ?? 'halobuzz-realtime', now: over.now ?? 1_000_000 }, secret);
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

t.test('a token signed with the secret verifies and carries its claims', async (t) => {
  const r = verifyAccessToken(token(), opts);
  t.ok(r.ok);
  if (r.ok) {
    t.equal(r.claims.sub, 'alice');
    t.equal(r.claims.sid, 's1');
    t.equal(r.claims.exp, 1_000_060);
  }
});

t.test('each kind of bad token is rejected with its reason', async (t) => {
  const good = token();
  const [h, b, s] = good.split('.') as [string, string, string];
  const noneToken = `${b64({ alg: 'none', typ: 'JWT' })}.${b}.`;
  const rs256 = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b}.${s}`;
  const tamperedBody = b64({ ...JSON.parse(Buffer.from(b, 'base64url').toString()), sub: 'mallory' });
  const otherSecret = signAccessToken({ sub: 'alice', ttlSec: 60, issuer: 'halobuzz', audience: 'halobuzz-realtime', now: 1_000_000 }, 'y'.repeat(40));
  const badClaims = (() => {
    const body = b64({ sub: 'has spaces', sid: 's', iat: 1, exp: 2_000_000, iss: 'halobuzz', aud: 'halobuzz-realtime' });
    const sig = createHmac('sha256', secret).update(`${h}.${body}`).digest('base64url');
    return `${h}.${body}.${sig}`;
  })();
  const cases: [string, string][] = [
    ['not-a-jwt', 'malformed'],
    ['a.b', 'malformed'],
    [noneToken, 'bad_algorithm'],
    [rs256, 'bad_algorithm'],
    [`${h}.${tamperedBody}.${s}`, 'bad_signature'],
    [otherSecret, 'bad_signature'],
    [`${h}.${b}.${s.slice(0, -1)}${s.endsWith('A') ? 'B' : 'A'}`, 'bad_signature'],
    [token({ ttlSec: 10, now: 999_000 }), 'expired'],
    [token({ audience: 'someone-else' }), 'wrong_audience'],
    [token({ issuer: 'evil' }), 'wrong_issuer'],
    [badClaims, 'bad_claims'],
  ];
  for (const [tok, reason] of cases) {
    const r = verifyAccessToken(tok, opts);
    t.notOk(r.ok, `${reason} rejected`);
    if (!r.ok) t.equal(r.reason, reason);
  }
});
