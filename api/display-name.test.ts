import t from 'tap';
import { normaliseDisplayName, MAX_DISPLAY_NAME } from './display-name';
import { PasswordPolicy } from './password-policy';

t.test('display names: normalised, trimmed, bounded in code points, no control/bidi/markup characters', async (t) => {
  const ok = (raw: string) => {
    const r = normaliseDisplayName(raw);
    return r.ok ? r.name : null;
  };
  t.equal(ok('  Asha  '), 'Asha', 'trimmed');
  t.equal(ok('Cafe\u0301'), 'Café', 'NFC: e + combining accent becomes é');
  t.equal(ok('नमस्ते'), 'नमस्ते', 'Devanagari with its virama');
  t.equal(ok('👩\u200d👩\u200d👧'), '👩\u200d👩\u200d👧', 'ZWJ emoji sequences stay');
  t.equal(ok('می\u200cخواهم'), 'می\u200cخواهم', 'ZWNJ stays (Persian)');
  t.equal(ok('👋'.repeat(MAX_DISPLAY_NAME)), '👋'.repeat(MAX_DISPLAY_NAME), 'the limit counts code points');
  // Described by code points: some of these characters would break the TAP stream if printed.
  const describe = (s: string) => [...s].map((c) => (c.codePointAt(0)! < 0x20 || c.codePointAt(0)! > 0x7e ? `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : c)).join('');
  for (const bad of ['', '   ', '\t\n', 'a\u0000b', 'bell\u0007', 'evil\u202Egnp.exe', 'iso\u2066late', 'line\u2028break', '<b>bold</b>', 'x'.repeat(MAX_DISPLAY_NAME + 1), '\ufeff']) {
    t.equal(ok(bad), null, `refused: "${describe(bad)}"`);
  }
});

t.test('passwords: the most common ones and trivially guessable ones are refused', async (t) => {
  const policy = new PasswordPolicy();
  for (const weak of ['1234567890', 'password123', 'qwertyuiop', 'aaaaaaaaaa', 'abcdefghij', 'Password123']) {
    t.type(policy.weakness(weak), 'string', `refused: ${weak}`);
  }
  t.type(policy.weakness('short'), 'string', 'too short');
  t.type(policy.weakness('asha.sharma1990', ['asha.sharma1990@example.com', 'asha.sharma1990', 'Asha Sharma']), 'string', 'built from the user\'s own email');
  for (const fine of ['correct horse battery', 'Tr0ub4dor&3xx', 'my dog rex 2019', 'halobuzz-fan-2026']) {
    t.equal(policy.weakness(fine), null, `accepted: ${fine}`);
  }
});
