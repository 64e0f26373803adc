/**
 * The ExportStore contract, run against SQLite and MongoDB (FerretDB). `open()` gives a handle on one shared
 * store each time it is called within a test (two handles: two API processes on MongoDB; on SQLite, one
 * data folder opened twice, as by a restarted process).
 */
import type { Test } from 'tap';
import { randomBytes, randomUUID } from 'node:crypto';
import type { ExportStore } from './export-store';

export function exportStoreConformance(t: Test, name: string, fresh: () => Promise<() => Promise<ExportStore>>, opts: { shared: boolean }): void {
  const handles = async (t: Test, n: number) => {
    const open = await fresh();
    const out: ExportStore[] = [];
    for (let i = 0; i < n; i++) out.push(await open());
    t.teardown(() => Promise.all(out.map((s) => s.close())));
    return out;
  };

  t.test(`${name}: one request per user per window, even when five race`, async (t) => {
    const [a, b] = await handles(t, 2);
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => (i % 2 ? b! : a!).create({ id: randomUUID(), user: 'u1', createdAt: 1000 + i }, 0)));
    t.equal(results.filter((r) => r.created).length, 1, 'exactly one created');
    t.equal((await a!.ofUser('u1', 10)).length, 1, 'one job stored');
    const id = randomUUID();
    t.same(await a!.create({ id, user: 'u2', createdAt: 5 }, 0), { created: true }, 'another user has a window of their own');
    await a!.finish(id, { error: 'broken' });
    t.same(await b!.create({ id: randomUUID(), user: 'u2', createdAt: 6 }, 0), { created: true }, 'a failed job does not count');
    t.match(await b!.create({ id: randomUUID(), user: 'u1', createdAt: 99_999 }, 50_000), { created: true }, 'after the window, a new one');
  });

  t.test(`${name}: a job's life: staged parts, ready, expired`, async (t) => {
    const [a, b] = await handles(t, 2);
    const id = randomUUID();
    await a!.create({ id, user: 'u3', createdAt: 10 }, 0);
    t.same((await b!.pending()).map((j) => j.id), [id], 'pending, seen by any handle');
    await a!.markDone(id, 'account');
    await a!.markDone(id, 'account');
    await a!.markDone(id, 'wallet');
    t.same((await b!.get(id))!.done, ['account', 'wallet'], 'each staged part once');
    await a!.finish(id, { readyAt: 20, expiresAt: 30, bytes: 7 });
    t.match(await b!.get(id), { status: 'ready', readyAt: 20, expiresAt: 30, bytes: 7, error: null });
    t.same(await b!.expired(29), [], 'not expired before its time');
    t.same((await b!.expired(30)).map((j) => j.id), [id]);
    await b!.markExpired(id);
    t.equal((await a!.get(id))!.status, 'expired');
    t.same(await a!.pending(), []);
  });

  t.test(`${name}: archives of several MiB round-trip whole, any handle serves them, and deletion is final`, async (t) => {
    const [a, b] = await handles(t, 2);
    const id = randomUUID();
    const zip = randomBytes(9 * 2 ** 20 + 123);
    await a!.putArchive(id, zip);
    const back = await b!.archive(id);
    t.ok(back && Buffer.compare(Buffer.from(back), zip) === 0, 'the same bytes, from another handle');
    const smaller = randomBytes(10);
    await b!.putArchive(id, smaller);
    t.same(Buffer.from((await a!.archive(id))!), smaller, 'a rebuilt archive replaces the old one whole');
    await a!.deleteArchive(id);
    t.equal(await b!.archive(id), null);
    t.equal(await b!.archive(randomUUID()), null, 'an unknown archive is none');
  });

  t.test(`${name}: one runner per job at a time${opts.shared ? ', across processes' : ''}`, async (t) => {
    const [a, b] = await handles(t, 2);
    const id = randomUUID();
    let release: () => void = () => undefined;
    const held = new Promise<void>((r) => (release = r));
    const first = a!.exclusive(id, async () => {
      await held;
      return 'first';
    });
    await new Promise((r) => setTimeout(r, 50));
    t.equal(await a!.exclusive(id, async () => 'again'), null, 'the same handle waits its turn: null');
    if (opts.shared) t.equal(await b!.exclusive(id, async () => 'other'), null, 'another process: null');
    release();
    t.equal(await first, 'first');
    t.equal(await b!.exclusive(id, async () => 'after'), 'after', 'free again once it finished');
    await t.rejects(a!.exclusive(id, async () => {
      throw new Error('work failed');
    }), { message: 'work failed' }, 'the work\'s own failure comes through');
    t.equal(await b!.exclusive(id, async () => 'released'), 'released', 'and releases the job');
  });

  t.test(`${name}: erasure removes a user's jobs`, async (t) => {
    const [a] = await handles(t, 1);
    const [x, y] = [randomUUID(), randomUUID()];
    await a!.create({ id: x, user: 'gone', createdAt: 1 }, 0);
    await a!.finish(x, { error: 'e' });
    await a!.create({ id: y, user: 'gone', createdAt: 2 }, 0);
    await a!.create({ id: randomUUID(), user: 'stays', createdAt: 3 }, 0);
    t.same((await a!.eraseUser('gone')).sort(), [x, y].sort());
    t.same(await a!.ofUser('gone', 10), []);
    t.equal((await a!.ofUser('stays', 10)).length, 1);
  });
}
