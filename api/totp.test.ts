import t from 'tap';
import { base32Decode, base32Encode, codeAt, otpauthUri, verify } from './totp';

t.test('RFC 6238 test vectors (SHA-1, 8 digits truncated to the last 6)', async (t) => {
  // RFC 6238 appendix B: secret "12345678901234567890"; the 8-digit codes end in these 6 digits.
  const secret = base32Encode(Buffer.from('12345678901234567890'));
  const vectors: [number, string][] = [[59, '287082'], [1111111109, '081804'], [1111111111, '050471'], [1234567890, '005924'], [2000000000, '279037']];
  for (const [time, code] of vectors) t.equal(codeAt(secret, Math.floor(time / 30)), code, `T=${time}`);
});

t.test('base32 round-trips; verify accepts ±1 step and returns it; rejects others', async (t) => {
  const bytes = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255, 42]);
  t.same(base32Decode(base32Encode(bytes)), bytes);
  const secret = base32Encode(Buffer.from('abcdefghijabcdefghij'));
  const now = 1_700_000_000_000;
  const step = Math.floor(now / 30_000);
  t.equal(verify(secret, codeAt(secret, step), now), step);
  t.equal(verify(secret, codeAt(secret, step - 1), now), step - 1);
  t.equal(verify(secret, codeAt(secret, step + 2), now), null);
  t.equal(verify(secret, '12345', now), null);
  t.equal(verify(secret, 'abcdef', now), null);
  t.match(otpauthUri(secret, 'a@b.co', 'HaloBuzz'), /^otpauth:\/\/totp\/HaloBuzz:a%40b\.co\?secret=[A-Z2-7]+&issuer=HaloBuzz/);
});
