/**
 * A "went live" fan-out killed mid-way (SIGKILL after its first chunk, by the test-only crash point) is
 * finished by the restarted server from its stored cursor: 3,000 followers, each told exactly once.
 */
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { apiUser, until } from '../helpers/games';
import { SqliteFollowStore } from '../../adapters/social/follow-store-sqlite';
import { SqliteNotificationStore } from '../../adapters/notifications/notification-store-sqlite';
import { openSqlite } from '../../adapters/sqlite/open-sqlite';

t.test('SIGKILL mid fan-out: the restart completes it, nobody told twice', { timeout: 120_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'hb-fanout-crash-'));
  const first = await startServer({ HALOBUZZ_DEBUG_ENDPOINTS: '1', HALOBUZZ_DEBUG_CRASH_POINT: 'fanout:after_chunk' }, dataDir);
  const star = await apiUser(first, 'Star');
  const follows = new SqliteFollowStore(join(dataDir, 'social.sqlite'));
  for (let i = 0; i < 3000; i++) await follows.follow(`crash-fan-${i}`, star.id, i);
  await follows.close();
  const exited = new Promise<number | null>((resolve) => first.child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : code)));
  const res = await fetch(`${first.api}/v1/rooms`, { method: 'POST', headers: { authorization: `Bearer ${star.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ title: 'crash' }) });
  t.equal(res.status, 201);
  const room = ((await res.json()) as { id: string }).id;
  const host = first.client(star.id, { reconnect: false });
  await host.connect();
  // The join's reply races the crash: the first chunk may be done (and the process gone) before the reply
  // reaches the client, so the job is found in the store, not named from the reply.
  const joined = host.join(room, Role.HOST).then(() => true, () => false);
  t.equal(await exited, -9, 'the stream started and the server killed itself after the fan-out\'s first chunk');
  await joined;
  host.close();
  const store = new SqliteNotificationStore(join(dataDir, 'notifications.sqlite'));
  t.teardown(() => store.close());
  const jobs = readJobIds(join(dataDir, 'notifications.sqlite'));
  t.equal(jobs.length, 1, 'one fan-out job was planned');
  const job = jobs[0]!;
  t.match(job, /^live:/);
  const half = (await store.job(job))!;
  t.equal(half.done, false);
  t.equal(half.notified, 500, 'one chunk was done and recorded');

  const second = await startServer({}, dataDir);
  t.teardown(() => second.stop());
  await until('the restarted server finishes the job', async () => (await store.job(job))?.done === true, 60_000);
  t.equal((await store.job(job))!.notified, 3000);
  const db = openSqlite(join(dataDir, 'notifications.sqlite'), 'NORMAL');
  t.teardown(() => db.close());
  const counts = db.prepare("SELECT count(*) AS n, count(DISTINCT user) AS users FROM notifications WHERE kind = 'went_live'").get() as { n: number; users: number };
  t.same(counts, { n: 3000, users: 3000 }, 'exactly one notification per follower across the crash');
});

function readJobIds(file: string): string[] {
  const db = openSqlite(file, 'NORMAL');
  try {
    return (db.prepare('SELECT id FROM fanout_jobs').all() as Array<{ id: string }>).map((r) => r.id);
  } finally {
    db.close();
  }
}
