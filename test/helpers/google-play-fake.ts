/**
 * A local stand-in for the Android Publisher API (the push-provider-style fake the tests start): product
 * purchases by token, consume, and the voided-purchases list, for one package. Every request must carry a
 * self-signed service-account JWT that verifies with the test's own key (RS256, issuer = the account's
 * email); anything else is 401, as at Google.
 */
import { createServer, type Server } from 'node:http';
import { createVerify, generateKeyPairSync, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface FakePurchase {
  productId: string;
  orderId: string;
  purchaseState: 0 | 1 | 2;
  consumptionState: 0 | 1;
  obfuscatedExternalAccountId?: string;
}

export interface GooglePlayFake {
  readonly url: string;
  /** The service account JSON key file to configure the server with. */
  readonly credentialsFile: string;
  readonly purchases: Map<string, FakePurchase>;
  readonly voided: { purchaseToken: string; orderId: string; voidedTimeMillis: string }[];
  /** Requests refused for a bad or missing token. */
  unauthorized: number;
  close(): Promise<void>;
}

export async function startGooglePlayFake(dir: string, packageName: string): Promise<GooglePlayFake> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const email = `halobuzz-test@${randomUUID().slice(0, 8)}.iam.gserviceaccount.com`;
  const credentialsFile = join(dir, 'google-service-account.json');
  writeFileSync(credentialsFile, JSON.stringify({ type: 'service_account', client_email: email, private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }), private_key_id: 'k1' }));
  const pub = publicKey;
  const fake: Omit<GooglePlayFake, 'url' | 'close'> & { unauthorized: number } = { credentialsFile, purchases: new Map(), voided: [], unauthorized: 0 };
  const authorized = (header: string | undefined): boolean => {
    const m = /^Bearer ([\w-]+)\.([\w-]+)\.([\w-]+)$/.exec(header ?? '');
    if (!m) return false;
    const ok = createVerify('RSA-SHA256').update(`${m[1]}.${m[2]}`).verify(pub, Buffer.from(m[3]!, 'base64url'));
    const claims = JSON.parse(Buffer.from(m[2]!, 'base64url').toString()) as { iss?: string; exp?: number };
    return ok && claims.iss === email && (claims.exp ?? 0) * 1000 > Date.now();
  };
  const base = `/androidpublisher/v3/applications/${packageName}/purchases`;
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!authorized(req.headers.authorization)) {
      fake.unauthorized++;
      return send(401, { error: { code: 401, message: 'Request had invalid authentication credentials.' } });
    }
    const url = new URL(req.url ?? '/', 'http://fake');
    const product = new RegExp(`^${base}/products/([^/]+)/tokens/([^/:]+)(:consume)?$`).exec(url.pathname);
    if (product) {
      const p = fake.purchases.get(decodeURIComponent(product[2]!));
      if (!p || p.productId !== decodeURIComponent(product[1]!)) return send(404, { error: { code: 404, message: 'The purchase token was not found.' } });
      if (product[3]) {
        if (req.method !== 'POST') return send(405, {});
        p.consumptionState = 1;
        res.writeHead(204).end();
        return;
      }
      return send(200, {
        kind: 'androidpublisher#productPurchase', purchaseTimeMillis: String(Date.now()), purchaseState: p.purchaseState, consumptionState: p.consumptionState,
        orderId: p.orderId, purchaseType: 0, acknowledgementState: 1, quantity: 1, regionCode: 'NP',
        ...(p.obfuscatedExternalAccountId ? { obfuscatedExternalAccountId: p.obfuscatedExternalAccountId } : {}),
      });
    }
    if (url.pathname === `${base}/voidedpurchases`) {
      const since = Number(url.searchParams.get('startTime') ?? 0);
      return send(200, { voidedPurchases: fake.voided.filter((v) => Number(v.voidedTimeMillis) >= since) });
    }
    return send(404, { error: { code: 404, message: 'not found' } });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  }) as GooglePlayFake;
}
