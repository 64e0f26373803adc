/**
 * Translated messages in ICU MessageFormat (FormatJS `intl-messageformat`: plurals, numbers and selects
 * formatted by each language's CLDR rules), one JSON file per locale a translator can edit:
 * `{ "locale": "ar", "dir": "rtl", "messages": { "key": "…" } }`. Loading fails when a shipped locale lacks
 * a key English has, has one English lacks, or holds a message that does not parse, so a missing
 * translation is caught by the tests, never shown to a user.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IntlMessageFormat } from 'intl-messageformat';
import { LOCALES, directionOf, type Locale } from './locales';

interface CatalogFile {
  readonly locale: string;
  readonly dir: 'ltr' | 'rtl';
  readonly messages: Record<string, string>;
}

export class MessageCatalog {
  private readonly compiled = new Map<string, IntlMessageFormat>();

  private constructor(private readonly files: ReadonlyMap<Locale, CatalogFile>) {
    for (const [locale, file] of files) {
      for (const [key, text] of Object.entries(file.messages)) this.compiled.set(`${locale}\u0000${key}`, new IntlMessageFormat(text, locale));
    }
  }

  /** Loads `<dir>/<locale>.json` for every shipped locale and checks them against English. */
  static fromDir(dir: string): MessageCatalog {
    const files = new Map<Locale, CatalogFile>();
    for (const locale of LOCALES) files.set(locale, JSON.parse(readFileSync(join(dir, `${locale}.json`), 'utf8')) as CatalogFile);
    return MessageCatalog.of(files, dir);
  }

  /** Checks catalogs (every locale has exactly English's keys, the right direction, messages that parse). */
  static of(files: ReadonlyMap<Locale, CatalogFile>, where = 'catalog'): MessageCatalog {
    const en = files.get('en');
    if (!en) throw new Error(`${where}: no English catalog`);
    const keys = Object.keys(en.messages).sort();
    for (const locale of LOCALES) {
      const f = files.get(locale);
      if (!f) throw new Error(`${where}: no ${locale} catalog`);
      if (f.locale !== locale) throw new Error(`${where}/${locale}.json: says it is "${f.locale}"`);
      if (f.dir !== directionOf(locale)) throw new Error(`${where}/${locale}.json: dir must be ${directionOf(locale)}`);
      const have = Object.keys(f.messages);
      const missing = keys.filter((k) => !(k in f.messages));
      const extra = have.filter((k) => !keys.includes(k));
      if (missing.length > 0) throw new Error(`${where}/${locale}.json: missing ${missing.join(', ')}`);
      if (extra.length > 0) throw new Error(`${where}/${locale}.json: not in English: ${extra.join(', ')}`);
      for (const [k, text] of Object.entries(f.messages)) {
        try {
          new IntlMessageFormat(text, locale);
        } catch (err) {
          throw new Error(`${where}/${locale}.json: ${k} does not parse: ${(err as Error).message}`);
        }
      }
    }
    return new MessageCatalog(files);
  }

  has(key: string): boolean {
    return this.compiled.has(`en\u0000${key}`);
  }

  /** The message `key` in `locale`, its ICU arguments filled from `values`. */
  format(locale: Locale, key: string, values: Record<string, string | number> = {}): string {
    const m = this.compiled.get(`${locale}\u0000${key}`) ?? this.compiled.get(`en\u0000${key}`);
    if (!m) throw new Error(`no message ${key}`);
    return String(m.format(values));
  }

  /** Every locale's direction and raw messages (for a page that formats them itself). */
  raw(): Record<string, { dir: 'ltr' | 'rtl'; messages: Record<string, string> }> {
    return Object.fromEntries([...this.files].map(([locale, f]) => [locale, { dir: f.dir, messages: { ...f.messages } }]));
  }

  dir(locale: Locale): 'ltr' | 'rtl' {
    return this.files.get(locale)!.dir;
  }
}
