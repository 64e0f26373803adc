/**
 * The languages HaloBuzz ships (docs/i18n.md): English, Nepali, Hindi, Spanish and Arabic (right to left).
 * A request's language is the user's saved locale, else the best of its Accept-Language, else English;
 * only the language part counts (`es-MX` is Spanish).
 */
export const LOCALES = ['en', 'ne', 'hi', 'es', 'ar'] as const;
export type Locale = (typeof LOCALES)[number];
const RTL: ReadonlySet<string> = new Set(['ar']);

export function isLocale(value: string): value is Locale {
  return (LOCALES as readonly string[]).includes(value);
}

/** Text direction of a shipped locale. */
export function directionOf(locale: Locale): 'ltr' | 'rtl' {
  return RTL.has(locale) ? 'rtl' : 'ltr';
}

/** The shipped locale for a tag like `es-MX` or `ne`, or null. */
export function shippedLocale(tag: string | null | undefined): Locale | null {
  const base = tag?.trim().toLowerCase().split(/[-_]/)[0] ?? '';
  return isLocale(base) ? base : null;
}

/** The saved locale if shipped, else the highest-weighted shipped language of `Accept-Language`, else English. */
export function pickLocale(saved: string | null | undefined, acceptLanguage: string | undefined): Locale {
  const mine = shippedLocale(saved);
  if (mine) return mine;
  const ranked = (acceptLanguage ?? '').split(',').map((part, i) => {
    const [tag, ...params] = part.trim().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    return { tag: tag ?? '', q: q === undefined ? 1 : Number(q), i };
  }).filter((r) => r.tag && Number.isFinite(r.q) && r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranked) {
    const l = shippedLocale(r.tag);
    if (l) return l;
  }
  return 'en';
}
