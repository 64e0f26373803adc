import t from 'tap';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { engineUrl } from '../helpers/services';

const brokers = engineUrl(t, 'kafka');

async function until(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const start = Date.now();
  while (!ok()) {
    if (Date.now() - start > ms) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

if (brokers) {
  t.test('kafkajs: idempotent produce, consumer-group rebalance, committed offsets honoured', async (t) => {
    const kafka = new Kafka({ clientId: 'smoke', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
    const topic = `smoke-${process.pid}-${Date.now()}`;
    const groupId = `${topic}-group`;
    const admin = kafka.admin();
    await admin.connect();
    t.teardown(() => admin.disconnect());
    t.ok(await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true }), 'topic created');
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    t.teardown(() => producer.disconnect());
    const send = (from: number, n: number) => producer.send({
      topic,
      acks: -1,
      messages: Array.from({ length: n }, (_, i) => ({ key: `room-${(from + i) % 7}`, value: String(from + i) })),
    });

    const seen = new Map<string, number[]>();
    const member = async (name: string): Promise<Consumer> => {
      const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 10_000 });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      seen.set(name, []);
      await c.run({ eachMessage: async ({ message }) => void seen.get(name)!.push(Number(message.value)) });
      return c;
    };
    const total = () => [...seen.values()].reduce((n, v) => n + v.length, 0);

    const a = await member('a');
    await send(0, 40);
    await until('a consumed 40', () => seen.get('a')!.length === 40);
    t.same([...seen.get('a')!].sort((x, y) => x - y), Array.from({ length: 40 }, (_, i) => i), 'one member gets everything');

    const b = await member('b');
    await new Promise((r) => setTimeout(r, 3000));
    await send(40, 40);
    await until('80 consumed', () => total() === 80);
    t.ok(seen.get('b')!.length > 0, `the rebalance gave b partitions (b got ${seen.get('b')!.length})`);
    t.equal(new Set([...seen.values()].flat()).size, 80, 'no message consumed twice across members');

    await a.disconnect();
    await send(80, 10);
    await until('b took over', () => seen.get('b')!.some((v) => v >= 80) && total() === 90);
    t.equal(total(), 90);
    await b.disconnect();

    // A newcomer in the same group starts from the committed offsets, not from the beginning.
    await send(90, 5);
    const c = await member('c');
    t.teardown(() => c.disconnect());
    await until('c consumed the 5 new', () => seen.get('c')!.length >= 5);
    await new Promise((r) => setTimeout(r, 500));
    t.same([...seen.get('c')!].sort((x, y) => x - y), [90, 91, 92, 93, 94], 'only what was never committed');
    await admin.deleteTopics({ topics: [topic] });
  });
}
