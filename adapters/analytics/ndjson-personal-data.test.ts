import t from 'tap';
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NdjsonPersonalData } from './ndjson-personal-data';

t.test('NDJSON event files: a user\'s events are exported and dropped; others naming them keep counting under the pseudonym', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hb-ndjson-pd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const line = (e: Record<string, unknown>) => `${JSON.stringify({ node: 'n', ...e })}\n`;
  writeFileSync(join(dir, 'events-2026-11-01.ndjson'), line({ id: '1', type: 'chat', user: 'u_gone' }) + line({ id: '2', type: 'gift', user: 'fan', creator: 'u_gone', coins: 5 }) + line({ id: '3', type: 'chat', user: 'fan' }));
  writeFileSync(join(dir, 'events-2026-11-02.ndjson'), line({ id: '4', type: 'chat', user: 'fan' }));
  writeFileSync(join(dir, 'notes.txt'), 'u_gone is not an event file');
  const data = new NdjsonPersonalData(dir, 10);
  t.same((await data.exportUser('u_gone')).analytics_events!.map((e) => (e as { id: string }).id), ['1']);
  // A sink appending while the file is rewritten loses nothing.
  const appending = new Promise<void>((resolve) => setTimeout(() => {
    appendFileSync(join(dir, 'events-2026-11-01.ndjson'), line({ id: '5', type: 'chat', user: 'late' }));
    resolve();
  }, 2));
  const counts = await data.eraseUser({ user: 'u_gone', pseudonym: 'x_1', aliases: [] });
  await appending;
  t.same(counts, { analytics_events: 1, analytics_events_naming: 1 });
  const day1 = readFileSync(join(dir, 'events-2026-11-01.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; creator?: string });
  t.same(day1.map((e) => e.id).sort(), ['2', '3', '5'], 'their event gone, others and the late append kept');
  t.equal(day1.find((e) => e.id === '2')!.creator, 'x_1');
  t.notOk(readdirSync(dir).some((f) => f.includes('erasing')), 'no file left aside');
  t.equal(readFileSync(join(dir, 'events-2026-11-02.ndjson'), 'utf8'), line({ id: '4', type: 'chat', user: 'fan' }), 'a file that never named them is untouched');
  t.same(await data.eraseUser({ user: 'u_gone', pseudonym: 'x_1', aliases: [] }), {}, 'a second run finds nothing');
});
