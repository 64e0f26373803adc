import t from 'tap';
import Redis from 'ioredis';
import { engineUrl } from '../helpers/services';

const url = engineUrl(t, 'redis');
if (url) {
  t.test('ioredis SET/GET with a TTL and a pub/sub message through the real server', async (t) => {
    const client = new Redis(url);
    const sub = new Redis(url);
    t.teardown(() => {
      client.disconnect();
      sub.disconnect();
    });
    const key = `smoke:${process.pid}:${Date.now()}`;
    t.equal(await client.set(key, 'value', 'EX', 30), 'OK');
    t.equal(await client.get(key), 'value');
    const ttl = await client.ttl(key);
    t.ok(ttl > 0 && ttl <= 30, `ttl ${ttl}`);
    const channel = `${key}:chan`;
    const received = new Promise<string>((resolve) => sub.on('message', (_c: string, m: string) => resolve(m)));
    await sub.subscribe(channel);
    t.equal(await client.publish(channel, 'hello'), 1, 'one subscriber got it');
    t.equal(await received, 'hello');
  });
}
