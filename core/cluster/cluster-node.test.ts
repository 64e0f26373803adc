import t from 'tap';
import { InMemoryNodeRegistry } from '../../adapters/registry/in-memory-node-registry';
import { pickNodeNumber } from './cluster-node';

t.test('a starting node skips numbers whose events partition a live node reads', async (t) => {
  const registry = new InMemoryNodeRegistry(10_000);
  // Four partitions; live nodes 1 and 6 read partitions 1 and 2; node 3 is dead.
  for (let i = 0; i < 6; i++) await registry.allocateNodeNumber();
  await registry.beat(1, 'a', new Map());
  await registry.beat(6, 'b', new Map());
  await registry.beat(3, 'c', new Map(), Date.now() - 60_000);
  const first = await pickNodeNumber(registry, 4);
  t.same(first, { node: 7, shared: false }, '7 reads partition 3, free');
  await registry.beat(7, 'd', new Map());
  const second = await pickNodeNumber(registry, 4);
  t.same(second, { node: 8, shared: false }, '8 reads partition 0, free');
  await registry.beat(8, 'e', new Map());
  const third = await pickNodeNumber(registry, 4);
  t.equal(third.shared, true, 'with all four partitions read by live nodes, the fifth shares one');
  const fresh = new InMemoryNodeRegistry(10_000);
  await fresh.beat(1, 'a', new Map());
  await fresh.allocateNodeNumber();
  t.same(await pickNodeNumber(fresh, 4), { node: 2, shared: false }, 'the next number when its partition is free');
  const skip = new InMemoryNodeRegistry(10_000);
  for (let i = 0; i < 4; i++) await skip.allocateNodeNumber();
  await skip.beat(1, 'a', new Map());
  t.same(await pickNodeNumber(skip, 4), { node: 6, shared: false }, '5 would share node 1\'s partition: 6 is taken instead');
});
