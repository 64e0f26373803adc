/**
 * Coins from the app stores end to end, on the real server: App Store signed transactions and V2
 * notifications verified against a signing chain the test makes itself (configured as the server's root;
 * never Apple's production roots), and Google Play tokens looked up at a local fake of the Android
 * Publisher API that checks the server's service-account JWT. Once per transaction or order, every
 * refusal, clawbacks, conservation; on the SQLite ledger and on FerretDB.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../tools/server-process';
import { engineUrl } from '../helpers/services';
import { makeTestChain } from '../helpers/apple-chain';
import { startGooglePlayFake } from '../helpers/google-play-fake';
import { setRoles } from '../helpers/accounts';
import { appAccountToken } from '../../economy/purchases';
import type { LedgerTotals } from '../../adapters/ledger/ledger';

const mongoUrl = engineUrl(t, 'mongodb');
const BUNDLE = 'com.halobuzz.app';
const PACKAGE = 'com.halobuzz.app';

function suite(label: string, env: Record<string, string>): void {
  t.test(`${label}: App Store and Google Play purchases credit once, refuse what is not theirs, claw back reversals`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-stores-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const apple = makeTestChain();
    const stranger = makeTestChain('Stranger');
    const play = await startGooglePlayFake(dir, PACKAGE);
    t.teardown(() => play.close());
    const server = await startServer({
      HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_API_RATE_LIMIT: '100000',
      HALOBUZZ_APPLE_BUNDLE_ID: BUNDLE, HALOBUZZ_APPLE_ENVIRONMENT: 'Sandbox', HALOBUZZ_APPLE_ROOT_CERTS: apple.rootFile, HALOBUZZ_APPLE_ONLINE_CHECKS: '0',
      HALOBUZZ_GOOGLE_PACKAGE_NAME: PACKAGE, HALOBUZZ_GOOGLE_CREDENTIALS: play.credentialsFile, HALOBUZZ_GOOGLE_API_URL: play.url,
      ...env,
    });
    t.teardown(() => server.stop());
    const post = async (path: string, body: unknown, token?: string) => {
      const res = await fetch(`${server.api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    const get = async (path: string, token: string) => (await (await fetch(`${server.api}${path}`, { headers: { authorization: `Bearer ${token}` } })).json()) as Record<string, unknown>;
    const user = async (name: string) => {
      const r = await post('/v1/auth/register', { email: `${name}-${randomUUID()}@example.com`, password: 'correct horse battery staple', displayName: name });
      return { id: (r.body.user as { id: string }).id, token: (r.body.tokens as { accessToken: string }).accessToken };
    };
    const balance = async (token: string) => (await get('/v1/wallet', token)) as { balance: number; debt: number };
    const conserved = async (debts: number, what: string) => {
      const totals = (await (await fetch(`${server.http}/debug/ledger/totals`)).json()) as LedgerTotals;
      t.equal(totals.held, totals.issued, `${what}: held = issued (${totals.held})`);
      t.equal(totals.debts, debts, `${what}: debts ${debts}`);
      t.equal(totals.negativeAccounts, 0);
    };
    const alice = await user('alice');
    const bob = await user('bob');

    // ---- App Store -----------------------------------------------------------------------------------
    t.equal((await get('/v1/purchases/apple/account-token', alice.token)).appAccountToken, appAccountToken(alice.id), 'the app learns its account token');
    const now = Date.now();
    const tx = (id: string, extra: Record<string, unknown> = {}) => ({
      transactionId: id, originalTransactionId: id, bundleId: BUNDLE, productId: 'com.halobuzz.coins.550', purchaseDate: now, signedDate: now,
      type: 'Consumable', environment: 'Sandbox', quantity: 1, inAppOwnershipType: 'PURCHASED', price: 4990, currency: 'USD', transactionReason: 'PURCHASE',
      storefront: 'USA', storefrontId: '143441', appAccountToken: appAccountToken(alice.id), ...extra,
    });
    const t1 = apple.sign(tx('2000000001'));
    const first = await post('/v1/purchases/apple', { signedTransaction: t1 }, alice.token);
    t.match(first, { status: 200, body: { purchase: { channel: 'appstore', coins: 550, amountMinor: 499, currency: 'USD', status: 'credited' } } });
    const again = await post('/v1/purchases/apple', { signedTransaction: t1 }, alice.token);
    t.equal((again.body.purchase as { id: string }).id, (first.body.purchase as { id: string }).id, 'a retry answers the same purchase');
    t.same(await balance(alice.token), { balance: 550, debt: 0 }, 'credited once');
    t.match(await post('/v1/purchases/apple', { signedTransaction: t1 }, bob.token), { status: 400, body: { error: { code: 'HB_API_RECEIPT_INVALID' } } }, 'another user cannot claim a transaction carrying alice\'s token');
    const untokened = apple.sign(tx('2000000002', { appAccountToken: undefined }));
    t.match(await post('/v1/purchases/apple', { signedTransaction: untokened }, bob.token), { status: 200 }, 'a transaction without a token goes to the first claimant');
    t.match(await post('/v1/purchases/apple', { signedTransaction: untokened }, alice.token), { status: 409, body: { error: { code: 'HB_API_RECEIPT_CLAIMED' } } }, 'and nobody else');
    const refusals: [string, string][] = [
      ['signed by another chain', stranger.sign(tx('2000000003'))],
      ['another bundle id', apple.sign(tx('2000000004', { bundleId: 'com.other.app' }))],
      ['another environment', apple.sign(tx('2000000005', { environment: 'Production' }))],
      ['a tampered payload', (() => { const [h, , s] = apple.sign(tx('2000000006')).split('.'); return `${h}.${Buffer.from(JSON.stringify(tx('2000000006', { productId: 'com.halobuzz.coins.6500' }))).toString('base64url')}.${s}`; })()],
      ['a product that is not a coin package', apple.sign(tx('2000000007', { productId: 'com.halobuzz.premium' }))],
      ['a revoked transaction', apple.sign(tx('2000000008', { revocationDate: now, revocationReason: 0 }))],
      ['not a JWS at all', 'x'.repeat(40)],
    ];
    for (const [what, signed] of refusals) {
      t.match(await post('/v1/purchases/apple', { signedTransaction: signed }, alice.token), { status: 400, body: { error: { code: 'HB_API_RECEIPT_INVALID' } } }, `refused: ${what}`);
    }
    t.same(await balance(alice.token), { balance: 550, debt: 0 }, 'none of them credited anything');
    await conserved(0, 'after the App Store claims');

    // REFUND notification claws back; a redelivery and the original claim change nothing more.
    const note = (type: string, uuid: string, transaction: string) => apple.sign({
      notificationType: type, notificationUUID: uuid, version: '2.0', signedDate: Date.now(),
      data: { bundleId: BUNDLE, environment: 'Sandbox', signedTransactionInfo: transaction },
    });
    const refund = note('REFUND', randomUUID(), apple.sign(tx('2000000001', { revocationDate: Date.now(), revocationReason: 0 })));
    t.match(await post('/v1/webhooks/apple', { signedPayload: refund }), { status: 200, body: { outcome: 'clawed_back' } });
    t.match(await post('/v1/webhooks/apple', { signedPayload: refund }), { status: 200, body: { outcome: 'duplicate' } });
    t.match(await post('/v1/webhooks/apple', { signedPayload: stranger.sign({ notificationType: 'REFUND', notificationUUID: randomUUID(), version: '2.0', signedDate: Date.now(), data: { bundleId: BUNDLE, environment: 'Sandbox' } }) }),
      { status: 400, body: { error: { code: 'HB_API_WEBHOOK_REFUSED' } } }, 'a notification from another chain is refused');
    await post('/v1/purchases/apple', { signedTransaction: t1 }, alice.token);
    t.same(await balance(alice.token), { balance: 0, debt: 0 }, 'the refund took the 550 back, once');
    t.match(await post('/v1/webhooks/apple', { signedPayload: note('CONSUMPTION_REQUEST', randomUUID(), apple.sign(tx('2000000002'))) }), { status: 200, body: { outcome: 'ignored' } });
    await conserved(0, 'after the App Store refund');

    // ---- Google Play ---------------------------------------------------------------------------------
    play.purchases.set('gp-token-ok-000001', { productId: 'coins_100', orderId: 'GPA.0001', purchaseState: 0, consumptionState: 0, obfuscatedExternalAccountId: appAccountToken(alice.id) });
    play.purchases.set('gp-token-pending-02', { productId: 'coins_100', orderId: 'GPA.0002', purchaseState: 2, consumptionState: 0 });
    play.purchases.set('gp-token-cancelled-3', { productId: 'coins_100', orderId: 'GPA.0003', purchaseState: 1, consumptionState: 0 });
    play.purchases.set('gp-token-consumed-4', { productId: 'coins_100', orderId: 'GPA.0004', purchaseState: 0, consumptionState: 1 });
    const g1 = await post('/v1/purchases/google', { productId: 'coins_100', purchaseToken: 'gp-token-ok-000001' }, alice.token);
    t.match(g1, { status: 200, body: { purchase: { channel: 'googleplay', coins: 100, status: 'credited' } } });
    t.equal(play.purchases.get('gp-token-ok-000001')!.consumptionState, 1, 'consumed at Google after the credit');
    t.match(await post('/v1/purchases/google', { productId: 'coins_100', purchaseToken: 'gp-token-ok-000001' }, alice.token), { status: 200 }, 'a retry after the consume answers the same purchase');
    t.same(await balance(alice.token), { balance: 100, debt: 0 }, 'credited once');
    for (const [what, token, productId] of [['pending', 'gp-token-pending-02', 'coins_100'], ['cancelled', 'gp-token-cancelled-3', 'coins_100'], ['consumed elsewhere', 'gp-token-consumed-4', 'coins_100'],
      ['unknown', 'gp-token-never-issued', 'coins_100'], ['not a coin product', 'gp-token-ok-000001', 'premium_pass']] as const) {
      t.match(await post('/v1/purchases/google', { productId, purchaseToken: token }, alice.token), { status: 400, body: { error: { code: 'HB_API_RECEIPT_INVALID' } } }, `refused: ${what}`);
    }
    t.match(await post('/v1/purchases/google', { productId: 'coins_100', purchaseToken: 'gp-token-ok-000001' }, bob.token), { status: 400 }, 'another account\'s purchase is refused');
    t.equal(play.unauthorized, 0, 'every call to Google carried a valid service-account JWT');
    t.same(await balance(alice.token), { balance: 100, debt: 0 }, 'nothing more credited');

    // Voided → clawback, once, by an admin-triggered sync (the server also polls).
    const admin = await user('admin');
    await setRoles(server, admin.id, ['user', 'admin']);
    const adminToken = ((await post('/v1/auth/login', { email: (await get('/v1/me', admin.token)).email as string, password: 'correct horse battery staple' })).body.tokens as { accessToken: string }).accessToken;
    play.voided.push({ purchaseToken: 'gp-token-ok-000001', orderId: 'GPA.0001', voidedTimeMillis: String(Date.now()) });
    t.match(await post('/v1/admin/purchases/google/sync-voided', {}, adminToken), { status: 200, body: { voided: 1, clawedBack: 1 } });
    t.match(await post('/v1/admin/purchases/google/sync-voided', {}, adminToken), { status: 200, body: { voided: 1, clawedBack: 0 } }, 'a second sync claws back nothing more');
    t.equal((await post('/v1/admin/purchases/google/sync-voided', {}, alice.token)).status, 403, 'admins only');
    t.same(await balance(alice.token), { balance: 0, debt: 0 });
    const history = (await get('/v1/purchases', alice.token)) as { purchases: { channel: string; status: string; reason: string }[] };
    t.same(history.purchases.map((p) => [p.channel, p.status, p.reason]), [['googleplay', 'reversed', 'voided'], ['appstore', 'reversed', 'refund']], 'the receipts tell the story');
    await conserved(0, 'after the Google Play void');
  });
}

suite('SQLite ledger', {});
if (mongoUrl) suite('FerretDB ledger', { MONGODB_URL: mongoUrl.replace(/\/[^/]*$/, `/stores_${process.pid}_${Date.now()}`) });
