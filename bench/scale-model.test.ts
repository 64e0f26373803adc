import t from 'tap';
import { nodesPerRoom, plan, scaleDefaults, timeRecordRead, type MeasuredCosts } from './scale-model';

const costs: MeasuredCosts = { deliveryCpuUs: 2, messageCpuUs: 200, bytesPerConnection: 1300, emptyServerBytes: 280 * 2 ** 20, recordCpuUs: 4, redisCommitsPerSecond: null, sources: {} };

t.test('records reach every node, the nodes of a room\'s viewers, or about one', async (t) => {
  t.equal(nodesPerRoom('everyone', 40, 10), 40);
  t.ok(Math.abs(nodesPerRoom('interest-random', 40, 10) - 40 * (1 - (39 / 40) ** 10)) < 1e-9, 'random placement: expected distinct nodes');
  t.ok(nodesPerRoom('interest-random', 40, 10) < 10, 'never more than the viewers');
  t.equal(nodesPerRoom('interest-random', 1, 10), 1);
  t.equal(nodesPerRoom('interest-placed', 40, 10), 1, 'a small room on one node');
  t.equal(nodesPerRoom('interest-placed', 40, 120_000), 3, 'a room bigger than a node spreads over as few as hold it');
});

t.test('a plan fits CPU and memory, and interest routing never needs more nodes', async (t) => {
  const everyone = plan(scaleDefaults, costs, 'everyone');
  const random = plan(scaleDefaults, costs, 'interest-random');
  const placed = plan(scaleDefaults, costs, 'interest-placed');
  for (const x of [everyone, random, placed]) {
    t.ok(x.nodes !== null && x.cpuCores! <= x.nodes * scaleDefaults.coresPerNode * scaleDefaults.utilisation, `${x.routing}: ${x.nodes} nodes hold ${x.cpuCores?.toFixed(0)} cores`);
  }
  t.ok(everyone.nodes! > random.nodes! && random.nodes! >= placed.nodes!, `everyone ${everyone.nodes} > random ${random.nodes} >= placed ${placed.nodes}`);
  const twice = plan({ ...scaleDefaults, deliveries: scaleDefaults.deliveries * 2, rooms: scaleDefaults.rooms, connections: scaleDefaults.connections }, costs, 'interest-placed');
  t.ok(twice.nodes! > placed.nodes!, 'twice the traffic needs more nodes');
  // Reading every room's records costs each node 1M records/s x 12 µs = 12 cores, more than a node has at 60 %.
  t.equal(plan(scaleDefaults, { ...costs, recordCpuUs: 12 }, 'everyone').limitedBy, 'does not fit', 'without interest routing, past some record cost no node count fits');
  t.ok(plan(scaleDefaults, { ...costs, recordCpuUs: 12 }, 'interest-placed').nodes !== null, 'with it, the same load fits');
  const memoryBound = plan({ ...scaleDefaults, deliveries: 1000 }, { ...costs, bytesPerConnection: 200_000 }, 'interest-placed');
  t.equal(memoryBound.limitedBy, 'memory', 'idle but heavy connections: memory decides');
});

t.test('reading a record is timed, not assumed', async (t) => {
  const us = timeRecordRead(20_000);
  t.ok(us > 0 && us < 1000, `${us.toFixed(2)} µs per record`);
});
