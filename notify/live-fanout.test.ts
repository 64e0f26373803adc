/**
 * The "went live" fan-out on real SQLite stores: 2,000 followers in chunks of 100, a crash after the fifth
 * chunk, a new runner (a restart) finishing the job from its stored cursor and unfinished chunks: every
 * follower is notified exactly once, muted followers not at all, and the job's count is exact. Then two
 * runners (two nodes) share one job's chunks.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteFollowStore } from '../adapters/social/follow-store-sqlite';
import { SqliteNotificationStore } from '../adapters/notifications/notification-store-sqlite';
import { DEFAULT_SETTINGS } from './preferences';
import { Templates } from './templates';
import { Notifier } from './notifier';
import { LiveFanout } from './live-fanout';

const dir = mkdtempSync(join(tmpdir(), 'hb-fanout-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a fan-out interrupted after five chunks finishes after a restart, notifying each follower once', async (t) => {
  const follows = new SqliteFollowStore(join(dir, 'social.sqlite'));
  const store = new SqliteNotificationStore(join(dir, 'notifications.sqlite'));
  t.teardown(async () => {
    await follows.close();
    await store.close();
  });
  for (let i = 0; i < 2000; i++) await follows.follow(`f${i}`, 'star', i);
  for (let i = 0; i < 2000; i += 100) await store.saveSettings(`f${i}`, { ...DEFAULT_SETTINGS, mutedCreators: ['star'] });
  const notifier = new Notifier({ store, templates: Templates.fromDir(join(__dirname, '..', '..', 'config', 'notifications')), now: () => 1_000 });
  const errors: unknown[] = [];
  let chunks = 0;
  const crashing = new LiveFanout(store, follows, notifier, {
    node: 'n1', chunk: 100, pollMs: 60_000, leaseMs: 60_000, onError: (e) => errors.push(e),
    afterChunk: () => {
      if (++chunks === 5) throw new Error('simulated crash after the fifth chunk');
    },
  });
  await crashing.wentLive({ id: 'live:r1', room: 'r1', creator: 'star', creatorName: 'Star', roomTitle: 'hello', at: 1 });
  while (errors.length === 0) await new Promise((r) => setTimeout(r, 5));
  await crashing.stop();
  t.equal(errors.length, 1, 'the first runner died');
  const half = (await store.job('live:r1'))!;
  t.equal(half.done, false);
  t.equal(half.notified, 495, '5 chunks of 100, five muted followers in them');

  const restarted = new LiveFanout(store, follows, notifier, { node: 'n1', chunk: 100, pollMs: 60_000, leaseMs: 60_000, onError: (e) => errors.push(e) });
  await restarted.wentLive({ id: 'live:r1', room: 'r1', creator: 'star', creatorName: 'Star', roomTitle: 'hello', at: 1 });
  await restarted.kick();
  await restarted.stop();
  const job = (await store.job('live:r1'))!;
  t.equal(job.done, true);
  t.equal(job.notified, 1980, '2,000 followers less 20 muted, each counted once');
  for (const user of ['f1', 'f999', 'f1999']) {
    const page = await store.list(user, { limit: 10 });
    t.same(page.items.map((n) => n.id), ['live:r1:' + user], `${user}: exactly one notification`);
    t.match(page.items[0]!.data, { creatorName: 'Star', roomTitle: 'hello' });
  }
  t.same((await store.list('f100', { limit: 10 })).items, [], 'a muted follower gets nothing');
  await restarted.wentLive({ id: 'live:r1', room: 'r1', creator: 'star', creatorName: 'Star', roomTitle: 'hello', at: 1 });
  t.equal((await store.job('live:r1'))!.notified, 1980, 'the same room going live again is the same job');
});

t.test('two nodes share one fan-out: chunks split between them, every follower once', async (t) => {
  const follows = new SqliteFollowStore(join(dir, 'social2.sqlite'));
  const store = new SqliteNotificationStore(join(dir, 'notifications2.sqlite'));
  t.teardown(async () => {
    await follows.close();
    await store.close();
  });
  for (let i = 0; i < 1000; i++) await follows.follow(`g${i}`, 'big', i);
  const notifier = new Notifier({ store, templates: Templates.fromDir(join(__dirname, '..', '..', 'config', 'notifications')), now: () => 1_000 });
  const worked = new Map<string, number>();
  const runner = (node: string) => new LiveFanout(store, follows, notifier, {
    node, chunk: 50, pollMs: 60_000, leaseMs: 60_000, onError: (e) => t.fail(String(e)), afterChunk: () => worked.set(node, (worked.get(node) ?? 0) + 1),
  });
  const [a, b] = [runner('node-a'), runner('node-b')];
  await a.wentLive({ id: 'live:r2', room: 'r2', creator: 'big', creatorName: 'Big', roomTitle: 't', at: 1 });
  await Promise.all([a.kick(), b.kick()]);
  while (!(await store.job('live:r2'))!.done) await Promise.all([a.kick(), b.kick()]);
  await a.stop();
  await b.stop();
  t.equal((await store.job('live:r2'))!.notified, 1000);
  t.equal((worked.get('node-a') ?? 0) + (worked.get('node-b') ?? 0), 20, '20 chunks of 50, each worked once');
  t.ok((worked.get('node-b') ?? 0) > 0 && (worked.get('node-a') ?? 0) > 0, `both nodes worked chunks (${[...worked].join(', ')})`);
});
