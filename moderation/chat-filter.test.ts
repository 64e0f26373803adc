import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatFilter, SpamTracker, mask, parseFilterConfig } from './chat-filter';
import { WordMatcher, normalizeWord } from './word-matcher';

const root = join(__dirname, '..', '..');
const filter = ChatFilter.fromFile(join(root, 'config', 'moderation.json'));
const samples = (JSON.parse(readFileSync(join(root, 'config', 'moderation', 'samples.json'), 'utf8')) as { samples: { lang: string; abusive: boolean; text: string }[] }).samples;

t.test('the shipped config on the labelled samples: every abusive one is caught, every clean one passes', async (t) => {
  const langs = new Set(samples.filter((s) => s.abusive).map((s) => s.lang));
  t.ok(langs.size >= 15, `abusive samples in ${langs.size} languages`);
  for (const s of samples) {
    const v = filter.check(s.text, 'standard');
    if (s.abusive) t.not(v.action, 'allow', `${s.lang} caught: ${s.text} → ${v.text}`);
    else t.same(v, { action: 'allow', rule: null, spam: false, text: s.text, hits: [] }, `${s.lang} passes: ${s.text}`);
  }
});

t.test('strictness picks the action per rule', async (t) => {
  const text = 'what a load of shit';
  t.same(filter.check(text, 'relaxed').action, 'allow', 'relaxed rooms let profanity through');
  const standard = filter.check(text, 'standard');
  t.same([standard.action, standard.rule, standard.text], ['mask', 'profanity', 'what a load of ****'], 'standard masks it');
  t.same([filter.check(text, 'strict').action, filter.check(text, 'strict').rule], ['block', 'profanity'], 'strict blocks it');
  t.same(filter.check('just kys', 'relaxed').action, 'block', 'self-harm is blocked at every level');
  t.same(filter.check('Töte dich', 'relaxed').rule, 'self-harm', 'in other languages too');
});

t.test('evasions: look-alikes, stretched letters, spelled out, zero-width characters; whole words only', async (t) => {
  for (const text of ['sh1t happens', '$hit', 'fuuuuuck', 'f u c k this', 'fu\u200Bck', 'ＦＵＣＫ', 'SHIT']) {
    t.equal(filter.check(text, 'standard').action, 'mask', `caught: ${JSON.stringify(text)}`);
  }
  for (const text of ['my Galaxy A55 died', 'b2b deals', 'Scunthorpe', 'assassin', 'classic', 'passage', 'cocktail', 'Sussex', 'grass', 'as seen on tv', 'a b c', '2024 was great', 'hello @everyone']) {
    t.equal(filter.check(text, 'strict').action, 'allow', `passes: ${text}`);
  }
  t.equal(filter.check('fuuuck', 'standard').text, '******', 'the whole stretched word is masked');
  t.equal(filter.check('f u c k off', 'standard').text, '******* off', 'a spelled-out word is masked from its first to its last letter');
});

t.test('spam rules: links, mention floods, contact details flagged for review', async (t) => {
  const link = filter.check('free coins at www.getcoins.xyz', 'standard');
  t.same([link.action, link.rule, link.spam], ['block', 'links', true]);
  t.equal(filter.check('see https://halobuzz.app/events', 'standard').action, 'allow', 'an allowed domain passes');
  t.equal(filter.check('visit bit.ly/x1', 'relaxed').action, 'allow', 'relaxed rooms allow links');
  for (const text of ['see you on 2024-11-26', 'it costs 1,000,000 coins', '1795686123456.789|padding', 'score 12345.678', 'level 99 boss']) {
    t.equal(filter.check(text, 'standard').action, 'allow', `not a phone number: ${text}`);
  }
  for (const text of ['call (555) 010-9999', '0049 30 1234567', '+44 7700 900123']) t.equal(filter.check(text, 'standard').rule, 'contact', `a phone number: ${text}`);
  const flood = filter.check('@ann @bob @cy @dee hi', 'standard');
  t.same([flood.action, flood.rule, flood.spam], ['block', 'mentions', true]);
  t.equal(filter.check('@ann @bob hi', 'standard').action, 'allow', 'a few mentions are fine');
  const contact = filter.check('add me on whatsapp +977 980 123 4567', 'standard');
  t.same([contact.action, contact.rule, contact.text], ['flag', 'contact', 'add me on whatsapp +977 980 123 4567'], 'flagged, sent as written');
  t.same(filter.check('add me on whatsapp +977 980 123 4567', 'strict').text, 'add me on ******** *****************', 'strict masks it');
  const both = filter.check('shit, call +1 555 010 9999', 'standard');
  t.same([both.action, both.text, both.hits.map((h) => h.rule)], ['flag', '****, call +1 555 010 9999', ['profanity', 'contact']], 'a flag keeps the masks of other rules');
});

t.test('the shortcuts of the hot path decide as the full check does', async (t) => {
  // An email address is found from the start of its run of address characters, wherever the run starts.
  const strict = (text: string) => filter.check(text, 'strict').text;
  const address = 'john.doe+hb@mail.example.de';
  t.equal(strict(`mail ${address} now`), `mail ${'*'.repeat(address.length)} now`);
  t.equal(strict('ab@@c@x.io'), 'ab@@******', 'a later run of address characters still matches');
  t.equal(filter.check('no dots, no colons, no at signs here', 'standard').action, 'allow');
  // Tokens are reused only for the same text: two texts one after the other each get their own verdict.
  t.equal(filter.check('well shit', 'standard').text, 'well ****');
  t.equal(filter.check('well shot', 'standard').text, 'well shot');
  // A character outside the BMP stretched three times is read once (the quick test defers to the expression).
  const gothic = new WordMatcher(['\u{10330}\u{10331}']);
  t.same(gothic.find('\u{10330}\u{10330}\u{10330}\u{10331}').map((h) => h.entry), ['\u{10330}\u{10331}']);
  t.same(new WordMatcher(['shit']).find('sssshiiit').map((h) => h.entry), ['shit'], 'an ASCII stretch too');
  t.equal(normalizeWord('ＳＨＩＴ'), 'shit', 'full-width letters still go through NFKC');
});

t.test('the same message repeated: the third within the window is spam, in any case or spacing', async (t) => {
  const spam = new SpamTracker(30_000, 2);
  t.equal(spam.repeated('ann', 'Follow me!', 0), false);
  t.equal(spam.repeated('ann', 'follow  ME!', 1000), false);
  t.equal(spam.repeated('ann', 'FOLLOW ME!', 2000), true);
  t.equal(spam.repeated('bob', 'follow me!', 2000), false, 'per user');
  t.equal(spam.repeated('ann', 'follow me!', 40_000), false, 'the window passed');
});

t.test('the matcher: phrases, unspaced scripts, allow list, masking by code point', async (t) => {
  const m = new WordMatcher(['son of a bitch', 'bitch', '傻逼', '逼', 'fart'], ['fart']);
  t.same(m.find('you son of a bitch').map((h) => h.entry), ['son of a bitch'], 'the longest phrase wins');
  t.same(m.find('你是傻逼吗').map((h) => [h.start, h.end]), [[2, 4]], 'a Han entry matches inside text without spaces');
  t.same(m.find('逼真'), [], 'a single Han character is not an entry');
  t.same(m.find('vilken fart'), [], 'allowed words never match');
  t.equal(mask('a 😀 b', [{ start: 2, end: 4 }]), 'a * b', 'one star per code point');
  t.equal(normalizeWord('Ｓh1T'), 'shit');
  t.equal(normalizeWord('2024'), '2024', 'numbers stay numbers');
});

t.test('a config with mistakes is refused with the field named', async (t) => {
  const base = JSON.parse(readFileSync(join(root, 'config', 'moderation.json'), 'utf8')) as { filter: Record<string, unknown> };
  const broken = (change: (f: Record<string, unknown>) => void) => {
    const copy = structuredClone(base);
    change(copy.filter);
    return () => parseFilterConfig(copy, 'x.json');
  };
  t.throws(broken((f) => (f.defaultStrictness = 'max')), /defaultStrictness/);
  t.throws(broken((f) => ((f.rules as Record<string, unknown>[])[0]!.actions = { relaxed: 'nuke' })), /actions\.relaxed/);
  t.throws(broken((f) => ((f.rules as Record<string, unknown>[])[2]!.patterns = ['(unclosed'])), /patterns/);
  t.throws(broken((f) => ((f.rules as Record<string, unknown>[])[1]!.id = 'self-harm')), /used twice/);
  t.throws(() => new ChatFilter({ ...parseFilterConfig(base, 'x'), lists: { l: { package: 'naughty-words', languages: ['xx'] } } }), /no language "xx"/);
});
