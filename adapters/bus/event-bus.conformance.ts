/**
 * The EventBus contract as a tap suite; the in-process bus and the Kafka bus both run it.
 */
import type { Test } from 'tap';
import { wholeBatch, type ConsumedBatch, type EventBus } from './event-bus';

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > ms) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const bytes = (n: number) => new Uint8Array([n >> 8, n & 0xff]);
const num = (b: Uint8Array) => (b[0]! << 8) | b[1]!;

export function eventBusConformance(t: Test, name: string, open: () => Promise<EventBus>, unique: () => string): void {
  t.test(`${name}: consume-all sees records from its start, in partition order`, async (t) => {
    const bus = await open();
    t.teardown(() => bus.close());
    const topic = unique();
    await bus.ensureTopics([topic], 3);
    await bus.publish([{ topic, records: [{ partition: 0, value: bytes(999) }] }]);
    const seen = new Map<number, number[]>([[0, []], [1, []], [2, []]]);
    const sub = await bus.consumeAll([topic], (b: ConsumedBatch) => {
      for (const r of b.records) seen.get(b.partition)!.push(num(r.value));
    });
    for (let i = 0; i < 60; i++) await bus.publish([{ topic, records: [{ partition: i % 3, value: bytes(i) }] }]);
    await until('60 records', () => [...seen.values()].flat().length >= 60);
    for (const [p, values] of seen) {
      t.same(values, Array.from({ length: 20 }, (_, k) => p + 3 * k), `partition ${p} in publish order, nothing from before the subscription`);
    }
    await sub.stop();
  });

  t.test(`${name}: consume-all of some partitions sees only those`, async (t) => {
    const bus = await open();
    t.teardown(() => bus.close());
    const topic = unique();
    await bus.ensureTopics([topic], 4);
    const seen = new Map<number, number[]>();
    const sub = await bus.consumeAll([topic], (b: ConsumedBatch) => {
      const list = seen.get(b.partition) ?? [];
      seen.set(b.partition, list);
      for (const r of b.records) list.push(num(r.value));
    }, [1, 3]);
    for (let i = 0; i < 40; i++) await bus.publish([{ topic, records: [{ partition: i % 4, value: bytes(i) }] }]);
    await until('20 records of partitions 1 and 3', () => [...seen.values()].flat().length >= 20);
    // Anything from partitions 0 or 2 would have been delivered along with the rest by now; wait a little more to be sure.
    await new Promise((r) => setTimeout(r, 300));
    t.same([...seen.keys()].sort(), [1, 3], 'only the named partitions were read');
    t.same(seen.get(1), Array.from({ length: 10 }, (_, k) => 1 + 4 * k), 'partition 1 in publish order');
    t.same(seen.get(3), Array.from({ length: 10 }, (_, k) => 3 + 4 * k), 'partition 3 in publish order');
    await sub.stop();
  });

  t.test(`${name}: a shared consumer commits only what it handled; the next owner resumes there`, async (t) => {
    const bus = await open();
    t.teardown(() => bus.close());
    const topic = unique();
    const group = `${topic}-group`;
    await bus.ensureTopics([topic], 2);
    await bus.publish([{ topic, records: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: bytes(i) })) }]);
    const first: number[] = [];
    let assignedFirst: ReadonlyMap<string, readonly number[]> | null = null;
    let failOnce = true;
    const a = await bus.consumeShared(group, [topic], {
      onAssignment: (m) => void (assignedFirst = m),
      onBatch: (b) => wholeBatch((async () => {
        // The first batch fails once: it must come again (nothing committed) rather than be lost.
        if (failOnce) {
          failOnce = false;
          throw new Error('injected');
        }
        for (const r of b.records) first.push(num(r.value));
      })()),
    });
    await until('first member consumed 10', () => new Set(first).size === 10);
    t.same([...new Set(first)].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 'a failed batch is delivered again');
    t.same([...(assignedFirst!.get(topic) ?? [])].sort(), [0, 1], 'the only member owns every partition');
    await a.stop();

    await bus.publish([{ topic, records: [{ partition: 0, value: bytes(10) }, { partition: 1, value: bytes(11) }] }]);
    const second: number[] = [];
    const b = await bus.consumeShared(group, [topic], { onAssignment: () => undefined, onBatch: (batch) => wholeBatch((async () => void second.push(...batch.records.map((r) => num(r.value))))()) });
    await until('second member consumed the 2 new', () => second.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    t.same(second.sort((x, y) => x - y), [10, 11], 'only what was never committed');
    await b.stop();
  });

  t.test(`${name}: nothing is committed past a batch not yet done; a batch whose done fails comes again with all after it`, async (t) => {
    const bus = await open();
    t.teardown(() => bus.close());
    const topic = unique();
    const group = `${topic}-group`;
    await bus.ensureTopics([topic], 1);
    const seen: number[] = [];
    // Each batch is taken at once; its `done` waits for the test: fail the first, finish the rest.
    const pending: { values: number[]; finish: (err?: Error) => void }[] = [];
    const a = await bus.consumeShared(group, [topic], {
      onAssignment: () => undefined,
      onBatch: (b) => {
        const values = b.records.map((r) => num(r.value));
        seen.push(...values);
        const done = new Promise<void>((resolve, reject) => pending.push({ values, finish: (err) => (err ? reject(err) : resolve()) }));
        return { taken: Promise.resolve(), done };
      },
    });
    await bus.publish([{ topic, records: [{ partition: 0, value: bytes(0) }] }]);
    await until('the first batch', () => pending.length >= 1);
    for (let i = 1; i <= 3; i++) await bus.publish([{ topic, records: [{ partition: 0, value: bytes(i) }] }]);
    await new Promise((r) => setTimeout(r, 300)); // Kafka may offer 1…3 meanwhile; the in-process bus waits
    pending[0]!.finish(new Error('injected'));
    const again = () => seen.lastIndexOf(0);
    await until('the failed batch again', () => seen.filter((v) => v === 0).length >= 2);
    // Finish everything from the second delivery of 0 on (earlier batches after 0 were abandoned).
    await until('0…3 again after the failed batch', () => {
      for (const p of pending) if (p.values.some((v) => seen.indexOf(v, again()) >= 0)) p.finish();
      return [0, 1, 2, 3].every((v) => seen.indexOf(v, again()) >= 0);
    });
    t.same([...new Set(seen.slice(again()))], [0, 1, 2, 3], 'redelivered from the failed batch, in order');
    // A batch still working when its member stops is not committed: the next member gets it, and only it.
    await new Promise((r) => setTimeout(r, 600)); // a commit interval for what is done
    const before = pending.length;
    await bus.publish([{ topic, records: [{ partition: 0, value: bytes(4) }] }]);
    await until('the batch of 4', () => pending.length > before);
    await a.stop();
    const second: number[] = [];
    const b = await bus.consumeShared(group, [topic], { onAssignment: () => undefined, onBatch: (batch) => wholeBatch((async () => void second.push(...batch.records.map((r) => num(r.value))))()) });
    await until('the next member got the unfinished batch', () => second.includes(4));
    await new Promise((r) => setTimeout(r, 300));
    t.same(second, [4], 'everything done was committed; the batch not done came again');
    for (const p of pending) p.finish();
    await b.stop();
  });

  t.test(`${name}: a handler failure the engine would not retry by itself still redelivers, in both ways of consuming`, async (t) => {
    const bus = await open();
    t.teardown(() => bus.close());
    const topic = unique();
    await bus.ensureTopics([topic], 1);
    // kafkajs gives a consumer up for good after a non-retriable error (a broker restart can cause one too);
    // the bus must carry on with a fresh consumer rather than go deaf.
    const fatal = () => Object.assign(new Error('injected, not retriable'), { retriable: false });
    const shared: number[] = [];
    let sharedFailures = 0;
    const assignments: number[] = [];
    const a = await bus.consumeShared(`${topic}-group`, [topic], {
      onAssignment: (m) => void assignments.push(m.get(topic)?.length ?? 0),
      onBatch: (b) => wholeBatch((async () => {
        if (sharedFailures++ === 0) throw fatal();
        shared.push(...b.records.map((r) => num(r.value)));
      })()),
    });
    const all: number[] = [];
    let allFailures = 0;
    const sub = await bus.consumeAll([topic], (b) => {
      if (allFailures++ === 0) throw fatal();
      all.push(...b.records.map((r) => num(r.value)));
    });
    await bus.publish([{ topic, records: [0, 1, 2].map((i) => ({ partition: 0, value: bytes(i) })) }]);
    await until('both consumers got the batch after their failure', () => new Set(shared).size === 3 && new Set(all).size === 3);
    await bus.publish([{ topic, records: [{ partition: 0, value: bytes(3) }] }]);
    await until('and keep consuming', () => shared.includes(3) && all.includes(3));
    t.same([...new Set(shared)], [0, 1, 2, 3], 'shared: the failed batch came again, then the next');
    t.same([...new Set(all)], [0, 1, 2, 3], 'read-everything: the failed batch came again, then the next');
    t.equal(assignments[assignments.length - 1], 1, 'the shared member owns its partition again');
    await sub.stop();
    await a.stop();
  });

  t.test(`${name}: a topic with fewer partitions than configured is refused`, async (t) => {
    const bus = await open();
    t.teardown(() => bus.close());
    const topic = unique();
    await bus.ensureTopics([topic], 2);
    await t.rejects(bus.ensureTopics([topic], 4), { code: 'HB_BUS_TOPIC_MISMATCH' });
  });
}
