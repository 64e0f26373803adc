/**
 * Notification texts, out of code: one catalog file per shipped language in config/notifications
 * (docs/i18n.md), in ICU MessageFormat, so counts and coins are pluralised and formatted by each language's
 * rules ("a Rose", "3 × Rose"; Arabic's dual and few). Each kind has a `title` and a `body`; security
 * notices pick their sentence by event (`security.<event>`). A locale is matched by its language part
 * (`ne-NP` is Nepali); a language not shipped gets English.
 */
import { MessageCatalog } from '../i18n/message-catalog';
import { shippedLocale, type Locale } from '../i18n/locales';
import type { NotificationKind } from './preferences';

export class Templates {
  private constructor(private readonly catalog: MessageCatalog) {}

  /** Loads every shipped language; a missing file or key fails here (and in the tests), not in a push. */
  static fromDir(dir: string): Templates {
    return new Templates(MessageCatalog.fromDir(dir));
  }

  /** Title and body of a notification in `locale` (its language part, else English). */
  render(kind: NotificationKind, data: Record<string, string | number>, locale = 'en'): { title: string; body: string } {
    const l: Locale = shippedLocale(locale) ?? 'en';
    if (!this.catalog.has(`${kind}.title`)) throw new Error(`no template for ${kind}`);
    const values: Record<string, string | number> = { ...data };
    if (typeof data.event === 'string') {
      const key = `${kind}.${data.event}`;
      values.message = this.catalog.has(key) ? this.catalog.format(l, key, data) : data.event;
    }
    return { title: this.catalog.format(l, `${kind}.title`, values), body: this.catalog.format(l, `${kind}.body`, values) };
  }

  /** The direction a client lays a rendered text out in. */
  dir(locale: string): 'ltr' | 'rtl' {
    return this.catalog.dir(shippedLocale(locale) ?? 'en');
  }
}
