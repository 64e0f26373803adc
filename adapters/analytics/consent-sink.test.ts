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
