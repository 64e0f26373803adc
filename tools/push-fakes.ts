/**
 * Local fakes of the push providers, started by the tests and pointed at by configuration: FCM HTTP v1
 * (plain HTTP, any bearer), Expo's push API, APNs (HTTP/2 over TLS with a certificate from a test CA
 * made with openssl) and a Web Push service (HTTPS, same kind of test CA). Each records what it received and can answer "unregistered" for chosen tokens or
 * fail the next N requests with a 503/500.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createSecureServer, type Http2SecureServer } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface Received { readonly token: string; readonly title: string; readonly body: string; readonly collapseKey: string; readonly auth: string }

export interface PushFake {
  readonly url: string;
  readonly received: Received[];
  /** Tokens answered as unregistered. */
  readonly dead: Set<string>;
  /** Fail this many next requests with a provider error. */
  failNext: number;
  close(): Promise<void>;
}

/** The request body as text; a gzip-encoded one (Expo's SDK compresses large batches) is inflated. */
function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', reject);
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      resolve((req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString());
    });
  });
}

function listen(server: Server | Http2SecureServer | HttpsServer): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

export async function startFcmFake(): Promise<PushFake> {
  const fake = { received: [] as Received[], dead: new Set<string>(), failNext: 0 };
  const server = createServer(async (req, res) => {
    const text = await body(req);
    const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (req.method !== 'POST' || !/^\/v1\/projects\/[^/]+\/messages:send$/.test(req.url ?? '')) return send(404, { error: { status: 'NOT_FOUND' } });
    if (fake.failNext > 0) {
      fake.failNext--;
      return send(503, { error: { code: 503, status: 'UNAVAILABLE', message: 'try later' } });
    }
    const m = (JSON.parse(text) as { message: { token: string; notification: { title: string; body: string }; android?: { collapseKey?: string } } }).message;
    if (fake.dead.has(m.token)) return send(404, { error: { code: 404, status: 'NOT_FOUND', details: [{ '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' }] } });
    fake.received.push({ token: m.token, title: m.notification.title, body: m.notification.body, collapseKey: m.android?.collapseKey ?? '', auth: String(req.headers.authorization ?? '') });
    send(200, { name: `projects/test/messages/${fake.received.length}` });
  });
  const port = await listen(server);
  return Object.assign(fake, { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => server.close(() => r())) });
}

export async function startExpoFake(): Promise<PushFake> {
  const fake = { received: [] as Received[], dead: new Set<string>(), failNext: 0 };
  const server = createServer(async (req, res) => {
    const text = await body(req);
    const send = (status: number, json: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    if (req.method !== 'POST' || req.url !== '/--/api/v2/push/send') return send(404, {});
    if (fake.failNext > 0) {
      fake.failNext--;
      return send(503, { errors: [{ code: 'INTERNAL_SERVER_ERROR', message: 'try later' }] });
    }
    const messages = JSON.parse(text) as { to: string; title: string; body: string; data?: { collapseKey?: string } }[];
    send(200, {
      data: messages.map((m) => {
        if (fake.dead.has(m.to)) return { status: 'error', message: 'not registered', details: { error: 'DeviceNotRegistered' } };
        fake.received.push({ token: m.to, title: m.title, body: m.body, collapseKey: m.data?.collapseKey ?? '', auth: String(req.headers.authorization ?? '') });
        return { status: 'ok', id: `ticket-${fake.received.length}` };
      }),
    });
  });
  const port = await listen(server);
  return Object.assign(fake, { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) });
}

export interface ApnsFake extends PushFake {
  /** host:port to configure, and the test CA that signed the server's certificate. */
  readonly address: string;
  readonly ca: string;
}

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A test CA and a certificate it signed for localhost (openssl), for the TLS fakes. */
function testCertificate(name: string): { key: Buffer; cert: Buffer; ca: string } {
  const dir = mkdtempSync(join(tmpdir(), `hb-${name}-`));
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key');
  openssl(dir, 'req', '-x509', '-new', '-key', 'ca.key', '-subj', `/CN=HaloBuzz Test ${name} CA`, '-days', '30', '-out', 'ca.pem');
  openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key');
  openssl(dir, 'req', '-new', '-key', 'server.key', '-subj', '/CN=localhost', '-out', 'server.csr');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(dir, 'x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '30', '-out', 'server.pem', '-extfile', 'server.ext');
  return { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')), ca: readFileSync(join(dir, 'ca.pem'), 'utf8') };
}

export async function startApnsFake(): Promise<ApnsFake> {
  const tls = testCertificate('apns');
  const fake = { received: [] as Received[], dead: new Set<string>(), failNext: 0 };
  const server = createSecureServer({ key: tls.key, cert: tls.cert });
  server.on('stream', (stream, headers) => {
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    stream.on('end', () => {
      const reply = (status: number, json?: unknown) => {
        stream.respond({ ':status': status, 'apns-id': `id-${fake.received.length}` });
        stream.end(json === undefined ? undefined : JSON.stringify(json));
      };
      const token = /^\/3\/device\/([0-9A-Za-z]+)$/.exec(String(headers[':path']))?.[1];
      if (headers[':method'] !== 'POST' || !token) return reply(404, { reason: 'BadPath' });
      if (!String(headers.authorization ?? '').startsWith('bearer ')) return reply(403, { reason: 'MissingProviderToken' });
      if (fake.failNext > 0) {
        fake.failNext--;
        return reply(503, { reason: 'ServiceUnavailable' });
      }
      if (fake.dead.has(token)) return reply(410, { reason: 'Unregistered', timestamp: Date.now() });
      const payload = JSON.parse(text) as { aps: { alert: { title: string; body: string } } };
      fake.received.push({ token, title: payload.aps.alert.title, body: payload.aps.alert.body, collapseKey: String(headers['apns-collapse-id'] ?? ''), auth: String(headers.authorization) });
      reply(200);
    });
  });
  const port = await listen(server);
  return Object.assign(fake, {
    url: `https://localhost:${port}`, address: `localhost:${port}`, ca: tls.ca,
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}

export interface WebPushFake extends PushFake {
  /** A browser subscription (the device token, as JSON) whose endpoint is this fake. */
  subscription(id: string): string;
  readonly ca: string;
}

/**
 * A browser vendor's push service: POST /push/<id> with an encrypted body and a VAPID Authorization; the
 * fake records the subscription id, the Topic (collapse) header and the VAPID scheme. 410 for dead ids.
 */
export async function startWebPushFake(): Promise<WebPushFake> {
  const tls = testCertificate('webpush');
  const fake = { received: [] as Received[], dead: new Set<string>(), failNext: 0 };
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, async (req, res) => {
    await body(req);
    const id = /^\/push\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '')?.[1];
    if (req.method !== 'POST' || !id) return res.writeHead(404).end();
    if (fake.failNext > 0) {
      fake.failNext--;
      return res.writeHead(503).end();
    }
    if (fake.dead.has(id)) return res.writeHead(410).end();
    if (req.headers['content-encoding'] !== 'aes128gcm' || !String(req.headers.authorization ?? '').startsWith('vapid ')) return res.writeHead(400).end();
    fake.received.push({ token: id, title: '(encrypted)', body: '', collapseKey: String(req.headers.topic ?? ''), auth: String(req.headers.authorization) });
    res.writeHead(201).end();
  });
  const port = await listen(server);
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const keys = { p256dh: ecdh.getPublicKey().toString('base64url'), auth: randomBytes(16).toString('base64url') };
  return Object.assign(fake, {
    url: `https://localhost:${port}`, ca: tls.ca,
    subscription: (id: string) => JSON.stringify({ endpoint: `https://localhost:${port}/push/${id}`, keys }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  });
}
