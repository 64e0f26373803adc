/**
 * Finds listed words in chat text. Words are matched whole (so "Scunthorpe", "assassin" and "classic" pass a
 * list holding their insides), after normalizing each token: NFKC, lower case, zero-width characters gone,
 * common look-alike digits and symbols read as letters ("sh1t", "$hit"; a word of fewer than four letters
 * is not decoded that way, so "a55" stays a phone model), and a letter stretched three times
 * or more read once ("fuuuck"). Letters spelled out one by one ("f u c k") are read as one word. Phrases
 * match as token sequences. Entries in scripts written without spaces (Han, kana, Thai) match as substrings,
 * since there are no word boundaries to wait for; so do Hangul entries, whose particles attach to them.
 *
 * Every hit is a span of the original text (code units), so masking keeps everything else as written.
 */

export interface WordHit {
  readonly start: number;
  readonly end: number;
  /** The list entry that matched (normalized). */
  readonly entry: string;
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', '$': 's' };
// Zero-width characters belong to the token they hide inside ("fu\u200Bck"); normalizing drops them.
const TOKEN = /[\p{L}\p{M}\p{N}$@\u200B-\u200D\u2060\uFEFF\u00AD]+/gu;
const ZERO_WIDTH = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;
// Korean writes spaces, but particles attach to the word ("병신아"), so Hangul entries match inside words too.
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Hangul}]/u;
const LETTER = /\p{L}/u;

/** One code point: one code unit, or a surrogate pair. */
function isOneCharacter(s: string): boolean {
  return s.length === 1 || (s.length === 2 && s.charCodeAt(0) >= 0xd800 && s.charCodeAt(0) <= 0xdbff);
}

/** Printable ASCII only: NFKC leaves it as it is and it holds no zero-width characters. */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** A word in NFKC, lower case, zero-width characters gone (before look-alikes are read as letters). */
function baseForm(word: string): string {
  // Most chat is ASCII; normalizing it would only allocate the same string again.
  return PLAIN_ASCII.test(word) ? word.toLowerCase() : word.normalize('NFKC').toLowerCase().replace(ZERO_WIDTH, '');
}

/** Look-alike digits and symbols read as letters, in a word that also has letters ("2024" and "@" alone stay). */
function decoded(base: string): string {
  if (!LETTER.test(base)) return base;
  let out = '';
  for (const ch of base) out += LEET[ch] ?? ch;
  return out;
}

/** The normal form a token (or a list entry) is compared in. */
export function normalizeWord(word: string): string {
  return decoded(baseForm(word));
}

/** Runs of 3+ of one letter read once ("fuuuck" → "fuck"); null when there is no such run. */
function collapsed(word: string): string | null {
  if (!mayHaveTriple(word)) return null;
  const out = word.replace(/(\p{L})\1{2,}/gu, '$1');
  return out === word ? null : out;
}

/**
 * False only when no character appears three times in a row: the cheap test before the regular
 * expression. A surrogate (a character beyond the BMP, two code units) always defers to the expression.
 */
function mayHaveTriple(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
    if (i >= 2 && c === word.charCodeAt(i - 1) && c === word.charCodeAt(i - 2)) return true;
  }
  return false;
}

/** Every run of a letter read once, for comparing stretched tokens with list entries ("ass" → "as"). */
function squeezed(word: string): string {
  return word.replace(/(\p{L})\1+/gu, '$1');
}

interface Token {
  readonly start: number;
  readonly end: number;
  readonly norm: string;
  /** Look-alikes were read as letters to make `norm` ("a55" → "ass"). */
  readonly decoded: boolean;
}

/** A word only look-alikes made (no letter of it written as such) must be this long: "a55" is a phone model, "sh1t" is not. */
const MIN_DECODED = 4;

export class WordMatcher {
  private readonly words = new Set<string>();
  /** Entries squeezed (every letter run read once), for tokens that had a stretched letter. */
  private readonly squeezedWords = new Map<string, string>();
  /** Phrases by their first token. */
  private readonly phrases = new Map<string, string[][]>();
  private readonly unspaced: string[] = [];
  private readonly allowed: Set<string>;

  constructor(entries: Iterable<string>, allow: Iterable<string> = []) {
    this.allowed = new Set([...allow].map(normalizeWord));
    for (const raw of entries) {
      const entry = raw.trim();
      if (!entry) continue;
      if (UNSPACED.test(entry)) {
        // One Han character alone (e.g. a single "dead" or "dog") says too little to block a sentence on.
        if ([...entry].length >= 2) this.unspaced.push(entry.normalize('NFKC').toLowerCase());
        continue;
      }
      const tokens = [...entry.matchAll(TOKEN)].map((m) => normalizeWord(m[0]));
      if (tokens.length === 0) continue;
      if (tokens.length === 1) {
        if (this.allowed.has(tokens[0]!)) continue;
        this.words.add(tokens[0]!);
        this.squeezedWords.set(squeezed(tokens[0]!), tokens[0]!);
      } else {
        const list = this.phrases.get(tokens[0]!) ?? [];
        list.push(tokens);
        this.phrases.set(tokens[0]!, list);
      }
    }
  }

  get size(): number {
    return this.words.size + this.unspaced.length + [...this.phrases.values()].reduce((n, l) => n + l.length, 0);
  }

  /** Listed words and phrases in `text`, in text order, not overlapping. */
  find(text: string): WordHit[] {
    const tokens = tokenize(text);
    const hits: WordHit[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const phrase = this.phraseAt(tokens, i);
      if (phrase) {
        hits.push({ start: t.start, end: tokens[i + phrase.length - 1]!.end, entry: phrase.join(' ') });
        i += phrase.length - 1;
        continue;
      }
      const entry = t.decoded && [...t.norm].length < MIN_DECODED ? null : this.wordOf(t.norm);
      if (entry) {
        hits.push({ start: t.start, end: t.end, entry });
        continue;
      }
      // "f u c k": a run of single letters read as one word.
      let j = i;
      while (j < tokens.length && isOneCharacter(tokens[j]!.norm) && LETTER.test(tokens[j]!.norm)) j++;
      if (j - i >= 3) {
        const joined = tokens.slice(i, j).map((x) => x.norm).join('');
        const spelled = this.wordOf(joined);
        if (spelled) {
          hits.push({ start: t.start, end: tokens[j - 1]!.end, entry: spelled });
          i = j - 1;
        }
      }
    }
    if (this.unspaced.length > 0 && UNSPACED.test(text)) {
      const lower = text.normalize('NFKC') === text ? text.toLowerCase() : null;
      // NFKC can move offsets (half-width kana); then the whole text is searched in normal form and hits
      // cover the characters found there (close enough for masking, exact for blocking).
      const hay = lower ?? text.normalize('NFKC').toLowerCase();
      for (const entry of this.unspaced) {
        let at = hay.indexOf(entry);
        while (at >= 0) {
          if (!hits.some((h) => at < h.end && at + entry.length > h.start)) hits.push({ start: at, end: at + entry.length, entry });
          at = hay.indexOf(entry, at + entry.length);
        }
      }
      hits.sort((a, b) => a.start - b.start);
    }
    return hits;
  }

  private wordOf(norm: string): string | null {
    if (this.allowed.has(norm)) return null;
    if (this.words.has(norm)) return norm;
    const stretched = collapsed(norm);
    if (stretched === null) return null;
    if (this.allowed.has(stretched)) return null;
    if (this.words.has(stretched)) return stretched;
    return this.squeezedWords.get(squeezed(norm)) ?? null;
  }

  private phraseAt(tokens: readonly Token[], i: number): string[] | null {
    const candidates = this.phrases.get(tokens[i]!.norm);
    if (!candidates) return null;
    let best: string[] | null = null;
    for (const p of candidates) {
      if (i + p.length > tokens.length) continue;
      if (p.every((w, k) => tokens[i + k]!.norm === w) && (!best || p.length > best.length)) best = p;
    }
    return best;
  }
}

/** The last text tokenized and its tokens: every word rule of one check reads the same text. */
let lastText: string | null = null;
let lastTokens: readonly Token[] = [];

function tokenize(text: string): readonly Token[] {
  if (text === lastText) return lastTokens;
  const out: Token[] = [];
  for (const m of text.matchAll(TOKEN)) {
    let start = m.index;
    let raw = m[0];
    // "@name" is a mention, not "aname".
    while (raw.startsWith('@')) {
      raw = raw.slice(1);
      start++;
    }
    if (!raw) continue;
    const base = baseForm(raw);
    const norm = decoded(base);
    out.push({ start, end: start + raw.length, norm, decoded: norm !== base });
  }
  lastText = text;
  lastTokens = out;
  return out;
}
