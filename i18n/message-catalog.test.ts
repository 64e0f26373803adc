import t from 'tap';
import { join } from 'node:path';
import { MessageCatalog } from './message-catalog';
import { LOCALES, pickLocale, type Locale } from './locales';
import { ApiErrors } from '../api/errors';

const dir = join(__dirname, '..', '..', 'config', 'locales', 'errors');

t.test('every shipped language has every API error, with ICU plurals by its own rules; Arabic is right to left', async (t) => {
  const c = MessageCatalog.fromDir(dir);
  for (const code of Object.keys(ApiErrors)) t.ok(c.has(code), `${code} has a message`);
  const locked = (l: Locale, minutes: number) => c.format(l, 'HB_API_LOCKED_OUT', { minutes });
  t.equal(locked('en', 1), 'too many failed sign-ins; try again in 1 minute');
  t.equal(locked('en', 5), 'too many failed sign-ins; try again in 5 minutes');
  t.equal(locked('es', 1), 'demasiados intentos fallidos; inténtalo de nuevo en 1 minuto');
  t.equal(locked('es', 5), 'demasiados intentos fallidos; inténtalo de nuevo en 5 minutos');
  t.equal(locked('ar', 1), 'محاولات دخول فاشلة كثيرة؛ حاول بعد دقيقة واحدة', 'Arabic one');
  t.equal(locked('ar', 2), 'محاولات دخول فاشلة كثيرة؛ حاول بعد دقيقتين', 'Arabic dual');
  t.equal(locked('ar', 3), 'محاولات دخول فاشلة كثيرة؛ حاول بعد 3 دقائق', 'Arabic few (3–10)');
  t.equal(locked('ar', 11), 'محاولات دخول فاشلة كثيرة؛ حاول بعد 11 دقيقة', 'Arabic many (11–99)');
  t.equal(locked('ne', 3), 'धेरै असफल साइन-इन; ३ मिनेटपछि फेरि प्रयास गर्नुहोस्', 'Nepali digits');
  t.equal(locked('hi', 0), 'बहुत से असफल साइन-इन; बाद में फिर कोशिश करें', 'no wait known');
  t.same(LOCALES.map((l) => c.dir(l)), ['ltr', 'ltr', 'ltr', 'ltr', 'rtl']);
  t.equal(c.format('es', 'HB_API_NOT_FOUND'), 'no encontrado');
});

t.test('a catalog with a missing or extra key, a wrong direction, or a broken message is refused', async (t) => {
  const base = () => new Map(LOCALES.map((l) => [l, { locale: l, dir: l === 'ar' ? 'rtl' as const : 'ltr' as const, messages: { a: 'x', b: '{n, plural, one {# y} other {# ys}}' } }]));
  t.ok(MessageCatalog.of(base()));
  const missing = base();
  missing.set('hi', { ...missing.get('hi')!, messages: { a: 'x' } as never });
  t.throws(() => MessageCatalog.of(missing), /hi\.json: missing b/);
  const extra = base();
  extra.set('es', { ...extra.get('es')!, messages: { a: 'x', b: 'y', c: 'z' } as never });
  t.throws(() => MessageCatalog.of(extra), /es\.json: not in English: c/);
  const ltrArabic = base();
  ltrArabic.set('ar', { ...ltrArabic.get('ar')!, dir: 'ltr' });
  t.throws(() => MessageCatalog.of(ltrArabic), /ar\.json: dir must be rtl/);
  const broken = base();
  broken.set('ne', { ...broken.get('ne')!, messages: { a: 'x', b: '{n, plural, one {# y}' } });
  t.throws(() => MessageCatalog.of(broken), /ne\.json: b does not parse/);
});

t.test('the language: the saved locale, else the best shipped Accept-Language, else English', async (t) => {
  t.equal(pickLocale('ne-NP', 'es'), 'ne');
  t.equal(pickLocale(null, 'fr-CH, es-MX;q=0.8, en;q=0.5'), 'es', 'French is not shipped: the next best');
  t.equal(pickLocale(undefined, 'en;q=0.4, ar;q=0.9'), 'ar', 'by weight, not order');
  t.equal(pickLocale('xx', 'de'), 'en');
  t.equal(pickLocale(null, 'hi;q=0, es'), 'es', 'q=0 means not acceptable');
  t.equal(pickLocale(null, undefined), 'en');
});
