/**
 * Multilingual word lists from maintained npm packages, read from the packages' own data files so an
 * `npm update` refreshes them. docs/moderation.md § Filters explains the choice (tools/wordlist-compare.ts
 * measures the candidates on config/moderation/samples.json).
 */
import { createRequire } from 'node:module';

/** Where a list comes from: the package and the languages to take from it. */
export interface WordListSource {
  readonly package: 'naughty-words' | '@2toad/profanity' | 'washyourmouthoutwithsoap';
  readonly languages: readonly string[];
}

const load = createRequire(__filename);

/**
 * List entries that are everyday words somewhere: a stop word (stopwords-iso, 58 languages) of any
 * language, the list's own included. Swedish "mes" is French "my", Turkish "am" is English "am", French
 * "con" is Spanish and Italian "with", Polish "suka" is Indonesian "like", and the Swedish list's "sex" is
 * Swedish and Danish "six": matched across a 61-language union they would mask ordinary chat, so they are
 * left out. (An entry a server still wants goes in the rule's own `words`.)
 */
export function everydayWords(lists: ReadonlyMap<string, readonly string[]>): Set<string> {
  const stop = load('stopwords-iso') as Record<string, string[]>;
  const langsOf = new Map<string, Set<string>>();
  for (const [lang, words] of Object.entries(stop)) {
    for (const w of words) {
      const key = w.toLowerCase();
      const set = langsOf.get(key) ?? new Set<string>();
      set.add(lang);
      langsOf.set(key, set);
    }
  }
  const out = new Set<string>();
  for (const [lang, words] of lists) {
    for (const w of words) {
      const langs = langsOf.get(w.toLowerCase());
      if (langs) out.add(`${lang}:${w.toLowerCase()}`);
    }
  }
  return out;
}

/** The words of one source without the entries that are everyday words of another language (above). */
export function unambiguousWords(source: WordListSource): string[] {
  const lists = loadWordList(source);
  const ambiguous = everydayWords(lists);
  return [...lists].flatMap(([lang, words]) => words.filter((w) => !ambiguous.has(`${lang}:${w.toLowerCase()}`)));
}

/** The words of one source, by language. An unknown language is an error (a typo must not disable a list). */
export function loadWordList(source: WordListSource): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  const all = allLanguages(source.package);
  for (const lang of source.languages) {
    const words = all.get(lang);
    if (!words) throw new Error(`word list ${source.package} has no language "${lang}" (it has ${[...all.keys()].sort().join(', ')})`);
    out.set(lang, words);
  }
  return out;
}

/** Every language a package offers (the comparison tool reads them all). */
export function allLanguages(pkg: WordListSource['package']): Map<string, readonly string[]> {
  switch (pkg) {
    case 'naughty-words': {
      const langs = ['ar', 'cs', 'da', 'de', 'en', 'eo', 'es', 'fa', 'fi', 'fil', 'fr', 'hi', 'hu', 'it', 'ja', 'kab', 'ko', 'nl', 'no', 'pl', 'pt', 'ru', 'sv', 'th', 'tlh', 'tr', 'zh'];
      return new Map(langs.map((l) => [l, load(`naughty-words/${l}.json`) as string[]]));
    }
    case '@2toad/profanity': {
      const data = (load('@2toad/profanity/dist/data/profane-words.js') as { profaneWords: Map<string, string[]> | Record<string, string[]> }).profaneWords;
      return new Map(data instanceof Map ? [...data] : Object.entries(data));
    }
    case 'washyourmouthoutwithsoap':
      return new Map(Object.entries(load('washyourmouthoutwithsoap/data/build.json') as Record<string, string[]>));
  }
}
