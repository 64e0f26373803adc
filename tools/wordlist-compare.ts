/**
 * Compares candidate word-list packages on the labelled samples (config/moderation/samples.json), all
 * through the same matcher the server uses: how many abusive samples each catches (recall, overall and
 * by language), which clean ones it wrongly catches, how many languages and entries it brings.
 *
 *   node dist/tools/wordlist-compare.js [--json out.json]
 *
 * docs/moderation.md § Filters records the run that chose the lists in config/moderation.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WordMatcher } from '../moderation/word-matcher';
import { allLanguages, everydayWords, type WordListSource } from '../moderation/word-lists';

interface Sample { lang: string; abusive: boolean; text: string }

const root = join(__dirname, '..', '..');
const samples = (JSON.parse(readFileSync(join(root, 'config', 'moderation', 'samples.json'), 'utf8')) as { samples: Sample[] }).samples;
const config = JSON.parse(readFileSync(join(root, 'config', 'moderation.json'), 'utf8')) as { filter: { allow: string[] } };

const packages: WordListSource['package'][] = ['naughty-words', '@2toad/profanity', 'washyourmouthoutwithsoap'];
const candidates: { name: string; packages: WordListSource['package'][]; dropEveryday?: boolean }[] = [
  ...packages.map((p) => ({ name: p, packages: [p] })),
  { name: 'naughty-words + @2toad/profanity', packages: ['naughty-words', '@2toad/profanity'] },
  { name: 'naughty-words + washyourmouth…', packages: ['naughty-words', 'washyourmouthoutwithsoap'] },
  // What the server loads: the chosen pair without entries that are everyday words somewhere (word-lists.ts).
  { name: 'the same, everyday words dropped', packages: ['naughty-words', 'washyourmouthoutwithsoap'], dropEveryday: true },
];

export interface CandidateResult {
  name: string;
  languages: number;
  entries: number;
  caught: number;
  abusive: number;
  falsePositives: string[];
  missed: string[];
  recallByLanguage: Record<string, string>;
}

function evaluate(c: { name: string; packages: WordListSource['package'][]; dropEveryday?: boolean }, allow: readonly string[]): CandidateResult {
  const langs = new Set<string>();
  const entries: string[] = [];
  for (const p of c.packages) {
    const lists = allLanguages(p);
    const everyday = c.dropEveryday ? everydayWords(lists) : new Set<string>();
    for (const [lang, words] of lists) {
      langs.add(lang);
      entries.push(...words.filter((w) => !everyday.has(`${lang}:${w.toLowerCase()}`)));
    }
  }
  const matcher = new WordMatcher(entries, allow);
  const byLang = new Map<string, [number, number]>();
  const result: CandidateResult = { name: c.name, languages: langs.size, entries: matcher.size, caught: 0, abusive: 0, falsePositives: [], missed: [], recallByLanguage: {} };
  for (const s of samples) {
    const hit = matcher.find(s.text).length > 0;
    if (s.abusive) {
      result.abusive++;
      const [got, all] = byLang.get(s.lang) ?? [0, 0];
      byLang.set(s.lang, [got + (hit ? 1 : 0), all + 1]);
      if (hit) result.caught++;
      else result.missed.push(`${s.lang}: ${s.text}`);
    } else if (hit) result.falsePositives.push(`${s.lang}: ${s.text} (${matcher.find(s.text).map((h) => h.entry).join(', ')})`);
  }
  for (const [lang, [got, all]] of [...byLang].sort()) result.recallByLanguage[lang] = `${got}/${all}`;
  return result;
}

function main(): void {
  const jsonAt = process.argv.indexOf('--json');
  const results: { allowList: 'none' | 'config'; results: CandidateResult[] }[] = [];
  for (const allowList of ['none', 'config'] as const) {
    const allow = allowList === 'config' ? config.filter.allow : [];
    const rows = candidates.map((c) => evaluate(c, allow));
    results.push({ allowList, results: rows });
    console.log(`\nallow list: ${allowList === 'config' ? `config/moderation.json (${allow.length} words)` : 'none'}`);
    console.log('candidate'.padEnd(34), 'langs', 'entries', 'recall'.padStart(8), 'false+');
    for (const r of rows) {
      console.log(r.name.padEnd(34), String(r.languages).padStart(5), String(r.entries).padStart(7), `${r.caught}/${r.abusive}`.padStart(8), String(r.falsePositives.length).padStart(6));
    }
    for (const r of rows) {
      console.log(`\n${r.name}: recall by language ${Object.entries(r.recallByLanguage).map(([l, v]) => `${l} ${v}`).join(', ')}`);
      for (const f of r.falsePositives) console.log(`  false positive  ${f}`);
      for (const m of r.missed) console.log(`  missed          ${m}`);
    }
  }
  if (jsonAt > 0 && process.argv[jsonAt + 1]) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(results, null, 2));
}

main();
