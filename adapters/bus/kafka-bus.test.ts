import t from 'tap';
import { KafkaBus } from './kafka-bus';
import { eventBusConformance } from './event-bus.conformance';
import { wholeBatch } from './event-bus';
import { engineUrl } from '../../test/helpers/services';

const brokers = engineUrl(t, 'kafka');
if (brokers) {
  let n = 0;
  const run = `bus-${process.pid}-${Date.now()}`;
  eventBusConformance(t, 'kafka', () => KafkaBus.connect({ brokers: brokers.split(','), clientId: run, sessionTimeoutMs: 6000 }), () => `${run}-${n++}`);

  t.test('kafka: batches are pipelined: the next batch of a partition comes while the one before is still working', async (t) => {
    const bus = await KafkaBus.connect({ brokers: brokers.split(','), clientId: run, sessionTimeoutMs: 6000 });
    t.teardown(() => bus.close());
    const topic = `${run}-${n++}`;
    await bus.ensureTopics([topic], 1);
    const taken: number[][] = [];
    let finishFirst: () => void = () => undefined;
    const first = new Promise<void>((resolve) => (finishFirst = resolve));
    const sub = await bus.consumeShared(`${topic}-group`, [topic], {
      onAssignment: () => undefined,
      onBatch: (b) => {
        taken.push(b.records.map((r) => r.value[0]!));
        return { taken: Promise.resolve(), done: taken.length === 1 ? first : Promise.resolve() };
      },
    });
    await bus.publish([{ topic, records: [{ partition: 0, value: new Uint8Array([1]) }] }]);
    const wait = async (what: string, ok: () => boolean) => {
      for (const start = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() - start > 30_000) throw new Error(`timed out: ${what}`);
    };
    await wait('the first batch', () => taken.length === 1);
    await bus.publish([{ topic, records: [{ partition: 0, value: new Uint8Array([2]) }] }]);
    await wait('the second batch while the first is not done', () => taken.length === 2);
    t.same(taken, [[1], [2]], 'in log order, the second offered before the first was done');
    finishFirst();
    await sub.stop();
  });

  t.test('kafka: consumer lag is reported per partition: never negative, zero once caught up', async (t) => {
    const lags: [string, number, number | null][] = [];
    const bus = await KafkaBus.connect({ brokers: brokers.split(','), clientId: run, sessionTimeoutMs: 6000, onLag: (topic, partition, lag) => void lags.push([topic, partition, lag]) });
    t.teardown(() => bus.close());
    const topic = `${run}-${n++}`;
    await bus.ensureTopics([topic], 1);
    // A backlog of 200 records before the member joins, handed over slowly: the first batches lag behind.
    await bus.publish([{ topic, records: Array.from({ length: 200 }, (_, i) => ({ partition: 0, value: new Uint8Array([i % 256]) })) }]);
    let seen = 0;
    const sub = await bus.consumeShared(`${topic}-group`, [topic], {
      onAssignment: () => undefined,
      onBatch: (b) => {
        seen += b.records.length;
        return wholeBatch(new Promise((r) => setTimeout(r, 20)));
      },
    });
    const mine = () => lags.filter(([tp]) => tp === topic);
    // Reported once each batch is handed over (20 ms after the handler saw it).
    for (const start = Date.now(); seen < 200 || mine().at(-1)?.[2] !== 0; await new Promise((r) => setTimeout(r, 10))) if (Date.now() - start > 30_000) throw new Error('timed out draining');
    t.ok(mine().length > 0, `reported after each batch (${mine().length} reports)`);
    t.equal(mine().at(-1)![2], 0, 'caught up: lag 0');
    t.ok(mine().every(([, p, lag]) => p === 0 && lag !== null && lag >= 0 && lag < 200), 'never negative, never more than the backlog');
    await sub.stop();
  });

  t.test('kafka: a session shorter than the brokers accept is raised to their minimum, with a warning', async (t) => {
    const warnings: string[] = [];
    const bus = await KafkaBus.connect({ brokers: brokers.split(','), clientId: run, sessionTimeoutMs: 100, onLog: (level, what) => void (level === 'warn' && warnings.push(what)) });
    t.teardown(() => bus.close());
    // deploy/local sets group.min.session.timeout.ms=500 (Kafka's own default is 6000).
    t.equal(bus.sessionTimeoutMs, 500, 'the brokers\' group.min.session.timeout.ms');
    t.ok(warnings.some((w) => w.includes('group.min.session.timeout.ms')), 'and the operator is told why failover is slower than asked');
    const asked = await KafkaBus.connect({ brokers: brokers.split(','), clientId: run, sessionTimeoutMs: 1500 });
    t.teardown(() => asked.close());
    t.equal(asked.sessionTimeoutMs, 1500, 'a session the brokers accept is used as asked');
  });

  t.test('kafka: unreachable brokers fail connect with a clear code, quickly', async (t) => {
    const started = Date.now();
    await t.rejects(KafkaBus.connect({ brokers: ['127.0.0.1:1'], clientId: 'nobody' }), { code: 'HB_BUS_UNREACHABLE' });
    t.ok(Date.now() - started < 30_000, 'gives up within seconds, not minutes');
  });
}
