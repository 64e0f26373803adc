import t, { type Test } from 'tap';
import { strFromU8, unzipSync } from 'fflate';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteExportStore } from '../adapters/privacy/export-store-sqlite';
import { MongoExportStore } from '../adapters/privacy/export-store-mongo';
import type { ExportStore } from '../adapters/privacy/export-store';
import { engineUrl, freshMongoDatabases } from '../test/helpers/services';
import { ApiError } from '../api/errors';
import buildArchive from './export-archive-worker';
import { holder, type PersonalDataHolder } from './data-holders';
import { ExportService } from './export-service';

/** Where the jobs and archives live: the data folder, or (when FerretDB runs) MongoDB shared by every process. */
type OpenStore = (dir: string) => Promise<ExportStore>;
const mongoBase = engineUrl(t, 'mongodb');
const mongoDatabase = mongoBase ? freshMongoDatabases(t, mongoBase, 'exports_test') : null;
const STORES: [string, OpenStore][] = [
  ['sqlite', async (dir) => new SqliteExportStore(dir)],
  ...(mongoDatabase ? [['mongodb', async () => MongoExportStore.connect(mongoDatabase())] as [string, OpenStore]] : []),
];

async function setup(t: Test, holders: PersonalDataHolder[], open: OpenStore) {
  const dir = mkdtempSync(join(tmpdir(), 'hb-export-'));
  const jobs = await open(dir);
  t.teardown(async () => {
    await jobs.close();
    rmSync(dir, { recursive: true, force: true });
  });
  let now = 1_000_000;
  const outcomes: string[] = [];
  const errors: unknown[] = [];
  const make = () => new ExportService({
    jobs, holders, build: async (task) => buildArchive(task), now: () => now, count: (o) => void outcomes.push(o),
    settings: { dir: join(dir, 'exports'), linkTtlMs: 60_000, windowMs: 86_400_000, secret: 'k' },
    onError: (err) => void errors.push(err),
  });
  return { dir, jobs, make, outcomes, errors, advance: (ms: number) => (now += ms) };
}

const data = (store: string, rows: Record<string, unknown[]>, calls: string[] = []) => holder(store, `the ${store}`, {
  exportUser: async (user) => {
    calls.push(`${store}:${user}`);
    return rows;
  },
  eraseUser: async () => ({}),
});

const link = (url: string) => {
  const m = /^\/v1\/exports\/([^/]+)\/download\?expires=(\d+)&sig=(.+)$/.exec(url)!;
  return { id: m[1]!, expires: Number(m[2]), sig: m[3]! };
};

for (const [name, open] of STORES) {
  t.test(`${name}: an export is staged, zipped with a README and served by a signed link until it expires`, async (t) => {
    const s = await setup(t, [data('account', { account: [{ id: 'u1', email: 'a@x' }] }), data('wallet', { wallet: [{ balance: 5 }], bytes: [new Uint8Array([1, 2])] })], open);
    const exports = s.make();
    const asked = await exports.request('u1');
    t.match(asked, { status: 'pending', url: null });
    await exports.idle();
    const [ready] = await exports.list('u1');
    t.equal(ready!.status, 'ready');
    const l = link(ready!.url!);
    const file = await exports.open(l.id, l.expires, l.sig);
    const zip = unzipSync(file.zip);
    t.same(Object.keys(zip).sort(), ['README.md', 'account.json', 'wallet.json']);
    t.match(strFromU8(zip['README.md']!), /\| wallet\.json \| the wallet \|/);
    t.same(JSON.parse(strFromU8(zip['wallet.json']!)), { wallet: [{ balance: 5 }], bytes: [{ base64: 'AQI=' }] }, 'binary values as base64');
    await t.rejects(exports.open(l.id, l.expires, `${l.sig.slice(0, -2)}xx`), { code: 'HB_API_EXPORT_LINK_INVALID' });
    await t.rejects(exports.open(l.id, l.expires + 1, l.sig), { code: 'HB_API_EXPORT_LINK_INVALID' }, 'the expiry is signed too');
    s.advance(60_001);
    await t.rejects(exports.open(l.id, l.expires, l.sig), { code: 'HB_API_EXPORT_LINK_EXPIRED' });
    t.equal(await exports.sweep(), 1);
    t.equal(await s.jobs.archive(l.id), null, 'the archive is deleted when its link expires');
    t.equal((await exports.list('u1'))[0]!.status, 'expired');
    t.same(s.outcomes, ['requested', 'ready', 'downloaded', 'expired']);
  });

  t.test(`${name}: one export per user per window; the refusal names the export to use`, async (t) => {
    const s = await setup(t, [data('account', { account: [] })], open);
    const exports = s.make();
    const first = await exports.request('u1');
    const err = await exports.request('u1').catch((e: unknown) => e) as ApiError;
    t.equal(err.code, 'HB_API_EXPORT_LIMIT');
    t.equal(err.headers['retry-after'], '86400');
    t.match(err.detail, { export: { id: first.id } });
    await exports.request('u2');
    s.advance(86_400_001);
    await exports.request('u1');
    await exports.idle();
    t.equal((await exports.list('u1')).length, 2, 'a new day, a new export');
  });

  t.test(`${name}: a restarted process resumes a pending export with the stores not yet staged`, async (t) => {
    const calls: string[] = [];
    const s = await setup(t, [data('account', { account: [{ id: 'u1' }] }, calls), data('social', { following: [] }, calls)], open);
    // A process died after staging `account`.
    await s.jobs.create({ id: '00000000-0000-4000-8000-000000000001', user: 'u1', createdAt: 1 }, 0);
    await s.jobs.markDone('00000000-0000-4000-8000-000000000001', 'account');
    mkdirSync(join(s.dir, 'exports', '00000000-0000-4000-8000-000000000001.staging'), { recursive: true });
    writeFileSync(join(s.dir, 'exports', '00000000-0000-4000-8000-000000000001.staging', 'account.json'), JSON.stringify({ account: [{ id: 'u1', staged: 'before' }] }));
    const exports = s.make();
    t.equal(await exports.resume(), 1);
    await exports.idle();
    t.same(calls, ['social:u1'], 'only the store not yet staged is read again');
    const job = (await exports.list('u1'))[0]!;
    t.equal(job.status, 'ready');
    const l = link(job.url!);
    const zip = unzipSync((await exports.open(l.id, l.expires, l.sig)).zip);
    t.match(JSON.parse(strFromU8(zip['account.json']!)), { account: [{ staged: 'before' }] });
  });

  t.test(`${name}: a store that fails fails the export (never a partial archive), and the user may ask again`, async (t) => {
    const broken = holder('broken', 'x', { exportUser: async () => { throw new Error('disk on fire'); }, eraseUser: async () => ({}) });
    const s = await setup(t, [data('account', { account: [] }), broken], open);
    const exports = s.make();
    await exports.request('u1');
    await exports.idle();
    const [job] = await exports.list('u1');
    t.equal(job!.status, 'failed');
    t.equal(job!.url, null);
    t.equal(s.errors.length, 1);
    await t.resolves(exports.request('u1'), 'a failed export does not count against the limit');
    await exports.idle();
  });

  t.test(`${name}: erasure removes the user's jobs and archives`, async (t) => {
    const s = await setup(t, [data('account', { account: [] })], open);
    const exports = s.make();
    await exports.request('u1');
    await exports.idle();
    const l = link((await exports.list('u1'))[0]!.url!);
    t.ok((await exports.open(l.id, l.expires, l.sig)).bytes > 0);
    t.equal(await exports.eraseUser('u1'), 1);
    t.equal(await s.jobs.archive(l.id), null, 'the archive is gone');
    t.same(await exports.list('u1'), []);
  });
}
