import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventOutbox } from './event-outbox';
import type { AnalyticsEvent } from './analytics-sink';

const dir = mkdtempSync(join(tmpdir(), 'hb-outbox-test-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const T0 = Date.UTC(2026, 10, 26, 10, 0, 0);

const connect = (session: string, ts: number): AnalyticsEvent => ({ id: `connect:${session}`, ts, node: 'n1', type: 'connect', user: 'alice', session, platform: 'ios', country: 'NP' });
const join_ = (id: string, session: string, ts: number, room = 'r1'): AnalyticsEvent => ({ id, ts, node: 'n1', type: 'join', user: 'alice', session, room, role: 'viewer', platform: 'ios' });

t.test('append, peek in order, remove what was delivered; the count survives reopening', async (t) => {
  const file = join(dir, 'order.sqlite');
  const box = EventOutbox.open(file, 100);
  t.equal(box.append([1, 2, 3].map((i) => ({ id: `c${i}`, ts: T0 + i, node: 'n1', type: 'chat' as const, room: 'r1' }))), 0);
  t.same(box.peek(2).map((e) => e.event.id), ['c1', 'c2']);
  box.remove(box.peek(2)[1]!.seq);
  t.equal(box.size, 1);
  box.close();
  const again = EventOutbox.open(file, 100);
  t.equal(again.size, 1, 'what was not delivered is still there after a restart');
  t.same(again.peek(10).map((e) => e.event.id), ['c3']);
  again.close();
});

t.test('bounded: beyond the maximum new events are refused and counted, but a refused leave still closes its visit', async (t) => {
  const box = EventOutbox.open(':memory:', 3);
  t.equal(box.append([connect('s1', T0), join_('v1', 's1', T0 + 1), { id: 'c', ts: T0 + 2, node: 'n1', type: 'chat' }]), 0);
  t.equal(box.append([{ id: 'leave:v1', ts: T0 + 5, node: 'n1', type: 'leave', visit: 'v1', room: 'r1', durationMs: 4 }]), 1, 'the leave is refused (full)');
  t.same(box.openIntervals().map((e) => e.id), ['connect:s1'], 'yet the visit is closed: recovery will not invent a crash');
  t.equal(box.size, 3);
  box.close();
});

t.test('a crash leaves connections and visits open: the next start closes each once, at the last sign of life', async (t) => {
  const file = join(dir, 'crash.sqlite');
  const dead = EventOutbox.open(file, 1000);
  dead.append([connect('s1', T0), join_('v1', 's1', T0 + 1000), connect('s2', T0 + 2000), join_('v2', 's2', T0 + 3000, 'r2')]);
  dead.append([{ id: 'leave:v2', ts: T0 + 8000, node: 'n1', type: 'leave', visit: 'v2', room: 'r2', durationMs: 5000 }]);
  dead.heartbeat(T0 + 20_000);
  dead.heartbeat(T0 + 19_000); // an older heartbeat never moves it back
  // SIGKILL: no close. The next process opens the same file.
  const next = EventOutbox.open(file, 1000);
  const closing = next.recoverInterrupted();
  const byId = new Map(closing.map((e) => [e.id, e]));
  t.same([...byId.keys()].sort(), ['disconnect:s1', 'disconnect:s2', 'leave:v1'].sort());
  t.match(byId.get('leave:v1'), { type: 'leave', room: 'r1', visit: 'v1', ts: T0 + 20_000, durationMs: 19_000, endedBy: 'crash', role: 'viewer', session: 's1', platform: 'ios' });
  t.match(byId.get('disconnect:s1'), { type: 'disconnect', ts: T0 + 20_000, durationMs: 20_000, endedBy: 'crash', country: 'NP' });
  t.match(byId.get('disconnect:s2'), { durationMs: 18_000 });
  t.same(next.peek(100).slice(-3).map((e) => e.event.id).sort(), [...byId.keys()].sort(), 'the closing events are in the outbox, to be shipped');
  t.same(next.recoverInterrupted(), [], 'recovering again closes nothing more');
  t.same(next.openIntervals(), []);
  next.close();
});

t.test('without a heartbeat, the newest event is the last sign of life', async (t) => {
  const box = EventOutbox.open(':memory:', 100);
  box.append([connect('s9', T0), { id: 'x', ts: T0 + 4_500, node: 'n1', type: 'chat' }]);
  const [closing] = box.recoverInterrupted();
  t.match(closing, { id: 'disconnect:s9', ts: T0 + 4_500, durationMs: 4_500 });
  box.close();
});
