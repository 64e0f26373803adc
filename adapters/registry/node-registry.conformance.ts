/**
 * The NodeRegistry contract, run against every registry (Redis, in-memory): unique node numbers, death by
 * silence after the TTL or at once on leave, presence only on live nodes, and a per-user token bucket.
 * `open(scope, ttlMs)` gives registries that share state within one scope.
 */
import type { Test } from 'tap';
import type { NodeRegistry } from './node-registry';

export function nodeRegistryConformance(t: Test, name: string, open: (scope: string, ttlMs: number) => Promise<NodeRegistry>): void {
  const TTL = 5000;
  t.test(`${name}: node numbers are unique per start, across registries`, async (t) => {
    const a = await open('numbers', TTL);
    const b = await open('numbers', TTL);
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    const numbers = await Promise.all([a.allocateNodeNumber(), b.allocateNodeNumber(), a.allocateNodeNumber(), b.allocateNodeNumber()]);
    t.equal(new Set(numbers).size, 4, `four starts, four numbers: ${numbers.join(', ')}`);
  });

  t.test(`${name}: heartbeats: silent nodes are dead after the TTL, a leaving node at once; presence follows the live ones`, async (t) => {
    const reg = await open('beat', TTL);
    t.teardown(() => reg.close());
    const now = Date.now();
    await reg.beat(1, 'ws-1', new Map([['alice', 2], ['bob', 1]]), now);
    await reg.beat(2, 'ws-2', new Map([['alice', 1]]), now);
    t.same(await reg.deadNodes(now + 1000), [], 'both alive within the TTL');
    t.same(await reg.liveNodes(now + 1000), [1, 2], 'both listed as live');
    t.same((await reg.whereIs('alice', now + 1000)).sort((x, y) => x.node - y.node), [
      { node: 1, nodeId: 'ws-1', connections: 2 }, { node: 2, nodeId: 'ws-2', connections: 1 },
    ]);
    await reg.beat(2, 'ws-2', new Map([['alice', 1]]), now + TTL);
    t.same(await reg.deadNodes(now + TTL + 1), [1], 'node 1 stopped beating');
    t.same(await reg.liveNodes(now + TTL + 1), [2], 'only node 2 is live');
    t.same((await reg.whereIs('alice', now + TTL + 1)).map((l) => l.node), [2], 'its users are no longer placed there');
    await reg.leave(2);
    t.same((await reg.deadNodes(now + TTL + 1)).sort(), [1, 2], 'a node that left is dead at once');
    t.same(await reg.liveNodes(now + TTL + 1), [], 'and no longer live');
    t.same(await reg.whereIs('bob', now + TTL + 1), []);
  });

  t.test(`${name}: presence follows each beat: users who came, changed or left`, async (t) => {
    const reg = await open('presence', TTL);
    t.teardown(() => reg.close());
    const now = Date.now();
    const where = async (user: string, at: number) => (await reg.whereIs(user, at)).map((l) => [l.node, l.connections]);
    await reg.beat(3, 'ws-3', new Map([['alice', 1], ['bob', 1], ['carol', 2]]), now);
    await reg.beat(3, 'ws-3', new Map([['alice', 2], ['carol', 2], ['dave', 1]]), now + 100);
    t.same(await where('alice', now + 200), [[3, 2]], 'a changed count');
    t.same(await where('bob', now + 200), [], 'a user who left');
    t.same(await where('carol', now + 200), [[3, 2]], 'an unchanged user stays');
    t.same(await where('dave', now + 200), [[3, 1]], 'a user who came');
    await reg.beat(3, 'ws-3', new Map(), now + 200);
    t.same(await where('carol', now + 300), [], 'everyone gone');
    await reg.beat(3, 'ws-3', new Map([['erin', 1]]), now + TTL);
    t.same(await where('erin', now + TTL + 100), [[3, 1]], 'after a long pause the whole presence is written again');
    t.same(await where('alice', now + TTL + 100), []);
  });

  t.test(`${name}: the cluster-wide chat bucket: burst, then the sustained rate, per user`, async (t) => {
    const reg = await open('chat', TTL);
    t.teardown(() => reg.close());
    const now = Date.now();
    const first = await reg.takeChat(['u1', 'u1', 'u1', 'u1', 'u2'], 2, 3, now);
    t.same(first, [true, true, true, false, true], 'a burst of 3 for u1; u2 has its own bucket');
    t.same(await reg.takeChat(['u1'], 2, 3, now + 400), [false], 'less than one token refilled');
    t.same(await reg.takeChat(['u1'], 2, 3, now + 600), [true], 'one token per 500 ms at 2/s');
    t.same(await reg.takeChat([], 2, 3, now), []);
  });
}
