import t from 'tap';
import { join } from 'node:path';
import { CoinCatalog, type CoinCatalogData } from './coin-packages';
import { chooseCurrency, formatMinor, regionOfAcceptLanguage } from './currencies';

const shipped = CoinCatalog.fromFile(join(__dirname, '..', '..', 'config', 'coin-packages.json'));

t.test('prices: set per currency, or derived from USD with the dated FX rate, rounded to minor units and the step', async (t) => {
  const p100 = shipped.get('coins_100')!;
  t.same(shipped.price(p100, 'USD'), { amountMinor: 99, currency: 'USD', minorUnits: 2, display: 'USD 0.99', source: 'catalog' });
  // 0.99 × 0.9215 = 0.912285 EUR → 91 cents (half up at the cent)
  t.match(shipped.price(p100, 'EUR'), { amountMinor: 91, display: 'EUR 0.91', source: 'fx', fxDate: '2026-11-25' });
  // 0.99 × 134.85 = 133.5015 NPR → 13350 paisa → whole rupees, half up: 134.00
  t.match(shipped.price(p100, 'NPR'), { amountMinor: 13400, display: 'NPR 134.00', source: 'fx' });
  t.match(shipped.price(shipped.get('coins_550')!, 'EUR'), { amountMinor: 499, source: 'catalog' }, 'a price set for a currency wins over FX');
  t.match(shipped.price(shipped.get('coins_6500')!, 'NPR'), { amountMinor: 650000, source: 'catalog' });
  // 9.99 × 134.85 = 1347.1515 → 1347 rupees
  t.match(shipped.price(shipped.get('coins_1200')!, 'NPR'), { amountMinor: 134700 });
});

t.test('rounding is half up at the minor unit, with no float drift', async (t) => {
  const data: CoinCatalogData = {
    version: 't', baseCurrency: 'USD', fx: { date: '2026-01-01', rates: { EUR: 0.5, NPR: 100 } },
    packages: [{ id: 'p', coins: 1, prices: { USD: 101 }, products: {} }, { id: 'q', coins: 1, prices: { USD: 1 }, products: {} }],
  };
  const c = new CoinCatalog(data);
  t.equal(c.price(c.get('p')!, 'EUR').amountMinor, 51, '1.01 × 0.5 = 0.505 → 0.51');
  t.equal(c.price(c.get('q')!, 'EUR').amountMinor, 1, '0.005 → 0.01 (never a free package)');
  t.equal(c.price(c.get('p')!, 'NPR').amountMinor, 10100);
});

t.test('the catalog refuses what would make a wrong price', async (t) => {
  const base = { version: 't', baseCurrency: 'USD' as const, fx: { date: '2026-01-01', rates: { EUR: 0.9, NPR: 130 } }, packages: [] as CoinCatalogData['packages'] };
  t.throws(() => new CoinCatalog({ ...base, fx: { date: '2026-01-01', rates: { EUR: 0.9 } } }), /no FX rate for NPR/);
  t.throws(() => new CoinCatalog({ ...base, fx: { ...base.fx, date: 'yesterday' } }), /fx.date/);
  t.throws(() => new CoinCatalog({ ...base, packages: [{ id: 'x', coins: 5, prices: { EUR: 100 }, products: {} }] }), /needs a USD price/);
  t.throws(() => new CoinCatalog({ ...base, packages: [{ id: 'x', coins: 5, prices: { USD: 1.5 }, products: {} }] }), /positive minor units/);
  t.throws(() => new CoinCatalog({ ...base, packages: [{ id: 'x', coins: 5, prices: { USD: 100 }, products: { appstore: 'a' } }, { id: 'y', coins: 6, prices: { USD: 100 }, products: { appstore: 'a' } }] }), /sells two packages/);
  t.equal(shipped.forProduct('appstore', 'com.halobuzz.coins.550')?.id, 'coins_550');
  t.equal(shipped.forProduct('googleplay', 'nope'), undefined);
});

t.test('which currency a user sees: explicit, else country, else locale, else USD', async (t) => {
  t.same(chooseCurrency({ explicit: 'eur', country: 'NP' }), { currency: 'EUR', by: 'explicit' });
  t.same(chooseCurrency({ explicit: 'GBP', country: 'NP' }), { currency: 'NPR', by: 'country' }, 'a currency not sold falls through');
  t.same(chooseCurrency({ acceptLanguage: 'de-DE,de;q=0.9,en;q=0.8' }), { currency: 'EUR', by: 'locale' });
  t.same(chooseCurrency({ acceptLanguage: 'ne-NP' }), { currency: 'NPR', by: 'locale' });
  t.same(chooseCurrency({ country: 'JP', acceptLanguage: 'ja' }), { currency: 'USD', by: 'default' });
  t.equal(regionOfAcceptLanguage('zh-Hant-TW;q=1'), 'TW');
  t.equal(formatMinor(650000, 'NPR'), 'NPR 6500.00');
  t.equal(formatMinor(5, 'JPY'), 'JPY 5');
});
