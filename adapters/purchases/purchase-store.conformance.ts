/**
 * The PurchaseStore contract as a tap suite, run on SQLite and on MongoDB (FerretDB): a purchase is
 * recorded once per id, per provider reference and per client request (also when creates race), found by
 * each, updated, listed newest first in pages, and kept through erasure with its buyer pseudonymised;
 * a provider event is handled once.
 */
import type { Test } from 'tap';
import type { PurchaseRecord, PurchaseStore } from './purchase-store';

const purchase = (id: string, over: Partial<PurchaseRecord> = {}): PurchaseRecord => ({
  id, user: 'u1', channel: 'stripe', packageId: 'p100', coins: 100, amountMinor: 99, currency: 'USD', baseAmountMinor: 99,
  providerRef: null, status: 'created', review: '', reason: '', createdAt: 1000, updatedAt: 1000, requestId: null, ...over,
});

export function purchaseStoreConformance(t: Test, name: string, open: () => Promise<PurchaseStore>): void {
  t.test(`${name}: one purchase per id, per provider reference, per client request`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.ok(await s.create(purchase('pur_1', { providerRef: 'pi_1', requestId: 'req-1' })));
    t.notOk(await s.create(purchase('pur_1')), 'the same id again');
    t.notOk(await s.create(purchase('pur_2', { providerRef: 'pi_1' })), 'the same provider reference on the same channel');
    t.ok(await s.create(purchase('pur_3', { channel: 'appstore', providerRef: 'pi_1' })), 'the same reference on another channel is another purchase');
    t.notOk(await s.create(purchase('pur_4', { requestId: 'req-1' })), 'the same client request of the same user');
    t.ok(await s.create(purchase('pur_5', { user: 'u2', requestId: 'req-1' })), 'another user\'s request with that id');
    t.ok(await s.create(purchase('pur_6')) && await s.create(purchase('pur_7')), 'purchases without reference or request do not collide');
    t.equal(await s.byId('pur_2'), null, 'a refused purchase is not recorded');
    t.equal(await s.byId('pur_4'), null);
    t.same(await s.byId('pur_1'), purchase('pur_1', { providerRef: 'pi_1', requestId: 'req-1' }));
    t.match(await s.byProviderRef('stripe', 'pi_1'), { id: 'pur_1' });
    t.match(await s.byProviderRef('appstore', 'pi_1'), { id: 'pur_3' });
    t.equal(await s.byProviderRef('googleplay', 'pi_1'), null);
    t.match(await s.byRequest('u1', 'req-1'), { id: 'pur_1' });
    t.match(await s.byRequest('u2', 'req-1'), { id: 'pur_5' });
    t.equal(await s.byRequest('u3', 'req-1'), null);
    for (let round = 0; round < 3; round++) {
      const racing = await Promise.all(Array.from({ length: 4 }, (_, i) => s.create(purchase(`race_${round}_${i}`, { providerRef: `pi_race_${round}` }))));
      if (racing.filter(Boolean).length !== 1) t.fail(`round ${round}: ${racing}`);
    }
    t.pass('four creates racing with one provider reference, three times: one purchase each time');
  });

  t.test(`${name}: updates change what they name; a reference set later is found and stays unique`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.create(purchase('pur_u'));
    await s.update('pur_u', { providerRef: 'pi_later', status: 'requires_action' }, 2000);
    t.match(await s.byProviderRef('stripe', 'pi_later'), { id: 'pur_u', status: 'requires_action', updatedAt: 2000, review: '', reason: '' });
    await s.update('pur_u', { status: 'credited', review: 'open' }, 3000);
    t.match(await s.byId('pur_u'), { status: 'credited', review: 'open', providerRef: 'pi_later', updatedAt: 3000 });
    await s.update('pur_u', { status: 'reversed', reason: 'refunded' }, 4000);
    t.match(await s.byId('pur_u'), { status: 'reversed', reason: 'refunded', review: 'open' });
    t.ok(await s.hadReversal('u1', 3500), 'reversed since 3500');
    t.notOk(await s.hadReversal('u1', 4500), 'not since 4500');
    t.notOk(await s.hadReversal('u2', 0));
    t.notOk(await s.create(purchase('pur_v', { providerRef: 'pi_later' })), 'the reference set by the update is taken');
  });

  t.test(`${name}: a user's purchases newest first, paged by (createdAt, id)`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    for (const [id, at] of [['a', 10], ['b', 20], ['c', 20], ['d', 30], ['e', 40]] as const) await s.create(purchase(`pur_${id}`, { user: 'lister', createdAt: at, updatedAt: at }));
    await s.create(purchase('pur_other', { user: 'someone', createdAt: 25 }));
    const first = await s.list('lister', { limit: 2 });
    t.same(first.map((p) => p.id), ['pur_e', 'pur_d']);
    const second = await s.list('lister', { limit: 2, before: { createdAt: first.at(-1)!.createdAt, id: first.at(-1)!.id } });
    t.same(second.map((p) => p.id), ['pur_c', 'pur_b'], 'equal times ordered by id');
    const third = await s.list('lister', { limit: 2, before: { createdAt: 20, id: 'pur_b' } });
    t.same(third.map((p) => p.id), ['pur_a']);
  });

  t.test(`${name}: a provider event is handled once`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    t.notOk(await s.hasEvent('stripe', 'evt_1'));
    t.ok(await s.recordEvent('stripe', 'evt_1', 'payment_intent.succeeded', 'credited', 1));
    t.notOk(await s.recordEvent('stripe', 'evt_1', 'payment_intent.succeeded', 'credited', 2), 'a replayed webhook');
    t.ok(await s.hasEvent('stripe', 'evt_1'));
    t.ok(await s.recordEvent('apple', 'evt_1', 'REFUND', 'reversed', 3), 'another provider\'s event with that id');
    const racing = await Promise.all(Array.from({ length: 4 }, () => s.recordEvent('google', 'evt_race', 'x', 'y', 4)));
    t.equal(racing.filter(Boolean).length, 1, 'four deliveries racing: handled once');
  });

  t.test(`${name}: receipts are exported, and kept through erasure with the buyer pseudonymised`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    await s.create(purchase('pur_g', { user: 'u_gone', providerRef: 'pi_g', status: 'credited' }));
    await s.create(purchase('pur_p', { user: 'u_pal' }));
    t.match((await s.exportUser('u_gone')).purchases, [{ id: 'pur_g', coins: 100 }]);
    await s.eraseUser({ user: 'u_gone', pseudonym: 'x_kept', aliases: [] });
    t.match(await s.byId('pur_g'), { user: 'x_kept', amountMinor: 99, coins: 100, status: 'credited' }, 'the receipt stays, pseudonymised');
    t.match(await s.byProviderRef('stripe', 'pi_g'), { id: 'pur_g' }, 'still found by its reference');
    t.same(await s.list('u_gone', { limit: 10 }), []);
    t.match(await s.byId('pur_p'), { user: 'u_pal' });
  });
}
