import t from 'tap';
import { ConsentSink, DECLINED } from './consent-sink';
import type { AnalyticsEvent, AnalyticsSink } from './analytics-sink';

t.test('events of a user who declined never reach the sink; people they name are replaced', async (t) => {
  const got: AnalyticsEvent[] = [];
  const inner: AnalyticsSink = {
    record: (e) => void got.push(e), recordAll: (es) => void got.push(...es), flush: async () => undefined,
    stats: () => ({ queued: 0, delivered: got.length, dropped: 1, failedAttempts: 0 }), close: async () => undefined,
  };
  const declined = new Set(['no-thanks']);
  const sink = new ConsentSink(inner, (u) => declined.has(u));
  const e = (over: Partial<AnalyticsEvent>): AnalyticsEvent => ({ id: String(Math.random()), ts: 1, node: 'n', type: 'chat', ...over });
  sink.record(e({ user: 'no-thanks' }));
  sink.record(e({ user: 'fine' }));
  sink.recordAll([e({ user: 'no-thanks', type: 'join' }), e({ type: 'gift', user: 'fan', creator: 'no-thanks', coins: 5 }), e({ type: 'mod_action', user: 'mod', target: 'no-thanks' }), e({ type: 'room_end' })]);
  t.same(got.map((x) => [x.type, x.user ?? '', x.creator ?? '', x.target ?? '']), [
    ['chat', 'fine', '', ''], ['gift', 'fan', DECLINED, ''], ['mod_action', 'mod', '', DECLINED], ['room_end', '', '', ''],
  ]);
  t.equal(sink.declinedEvents, 2);
  t.equal(sink.stats().dropped, 3, 'refusals count as dropped');
  declined.delete('no-thanks');
  sink.record(e({ user: 'no-thanks' }));
  t.equal(got.at(-1)!.user, 'no-thanks', 'a user who grants it again is recorded again');
});

t.test('a user who declines mid-session leaves no connection or visit open in the outbox (a restart would record its end)', async (t) => {
  const { EventOutbox } = await import('./event-outbox');
  const outbox = EventOutbox.open(':memory:', 1000);
  t.teardown(() => outbox.close());
  const inner: AnalyticsSink = {
    record: (e) => void outbox.append([e]), recordAll: (es) => void outbox.append(es), discard: (es) => outbox.forgetIntervals(es),
    flush: async () => undefined, stats: () => ({ queued: 0, delivered: 0, dropped: 0, failedAttempts: 0 }), close: async () => undefined,
  };
  const declined = new Set<string>();
  const sink = new ConsentSink(inner, (u) => declined.has(u));
  sink.recordAll([
    { id: 'connect:s1', ts: 1, node: 'n', type: 'connect', user: 'quits', session: 's1' },
    { id: 'v1', ts: 2, node: 'n', type: 'join', user: 'quits', room: 'r', session: 's1' },
    { id: 'connect:s2', ts: 3, node: 'n', type: 'connect', user: 'stays', session: 's2' },
  ]);
  t.equal(outbox.openIntervals().length, 3);
  declined.add('quits');
  sink.recordAll([
    { id: 'leave:v1', ts: 5, node: 'n', type: 'leave', user: 'quits', room: 'r', session: 's1', visit: 'v1' },
    { id: 'disconnect:s1', ts: 6, node: 'n', type: 'disconnect', user: 'quits', session: 's1' },
  ]);
  t.same(outbox.openIntervals().map((e) => e.user), ['stays'], 'their intervals closed, nothing recorded for them');
  t.equal(sink.declinedEvents, 2);
});
