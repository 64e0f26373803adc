/**
 * Notification texts, out of code: one JSON file per locale in config/notifications (en.json today; the
 * i18n work adds languages). `{name}` placeholders are filled from the notification's data; a locale
 * without a file, or a kind missing from it, falls back to English.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NotificationKind } from './preferences';

interface Template { title: string; body: string; messages?: Record<string, string> }
type Catalog = Partial<Record<NotificationKind, Template>> & { locale: string };

export class Templates {
  private constructor(private readonly byLocale: Map<string, Catalog>) {}

  static fromDir(dir: string): Templates {
    const byLocale = new Map<string, Catalog>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Catalog;
      byLocale.set(c.locale, c);
    }
    if (!byLocale.has('en')) throw new Error(`notification templates: ${dir} has no en.json`);
    return new Templates(byLocale);
  }

  get locales(): string[] {
    return [...this.byLocale.keys()].sort();
  }

  /** Title and body of a notification in `locale` (its language part, then English). */
  render(kind: NotificationKind, data: Record<string, string | number>, locale = 'en'): { title: string; body: string } {
    const t = this.byLocale.get(locale)?.[kind] ?? this.byLocale.get(locale.split('-')[0]!)?.[kind] ?? this.byLocale.get('en')![kind];
    if (!t) throw new Error(`no template for ${kind}`);
    const values: Record<string, string | number> = { ...data };
    if (t.messages && typeof data.event === 'string') values.message = fill(t.messages[data.event] ?? String(data.event), data);
    return { title: fill(t.title, values), body: fill(t.body, values) };
  }
}

function fill(text: string, values: Record<string, string | number>): string {
  return text.replace(/\{([A-Za-z]+)\}/g, (whole, name: string) => (values[name] === undefined ? whole : String(values[name])));
}
