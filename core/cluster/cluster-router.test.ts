/**
 * ClusterRouter over the in-process bus, with fake workers and sockets: a command from any node reaches
 * the owner's workers with its log position; the owner's effects reach only the nodes that need them (the
 * node of each connection, and for a broadcast the nodes the actor listed); nodes sharing an events
 * partition skip each other's records; a worker restart asks every node to re-join; an unreadable
 * record is counted and skipped; a node that stops hands its partitions to the other.
 */
import t, { type Test } from 'tap';
import pino from 'pino';
import { waitFor } from '../../tools/server-process';
import { InProcessBus } from '../../adapters/bus/in-process-bus';
import { CONN_SPACE, Eff, cmd, eff, positionOf, type BroadcastCommand, type Command, type Effect } from '../../actors/messages';
import { Role } from '../../protocol/codes';
import { ClusterRouter, type LocalActors, type LocalSockets } from './cluster-router';
import type { EventBus, SharedHandlers } from '../../adapters/bus/event-bus';
import { encode } from '../../protocol/codec';


interface FakeNode {
  router: ClusterRouter;
  received: Command[];
  applied: Effect[];
  evicted: number[];
  counts: Record<string, number>;
  reattach: Command[];
}

function node(bus: EventBus, n: number, nodePartitions = 8): FakeNode {
  const f = { received: [] as Command[], applied: [] as Effect[], evicted: [] as number[], counts: {} as Record<string, number>, reattach: [] as Command[] };
  const actors: LocalActors = {
    send: (c) => void f.received.push(c),
    quiesce: async () => undefined,
    evict: async (_kind, partitions) => void f.evicted.push(...partitions),
    broadcast: (_c: BroadcastCommand) => undefined,
  };
  const sockets: LocalSockets = {
    applyEffects: (effects) => void f.applied.push(...effects),
    reattachCommands: () => f.reattach,
  };
  const router = new ClusterRouter(bus, actors, sockets, {
    topicPrefix: 'unit', partitions: 4, nodePartitions, node: n, maxQueued: 1000, takeChat: null,
    onAnalytics: () => undefined, log: pino({ level: 'silent' }),
    count: (what, k = 1) => void (f.counts[what] = (f.counts[what] ?? 0) + k),
  });
  return { router, ...f };
}

/** Two routers on one in-process bus, started in order (node 1 is the oldest member, so the owner). */
async function twoNodes(t: Test, o: { stopFirst?: boolean } = {}): Promise<{ a: FakeNode; b: FakeNode; bus: InProcessBus }> {
  const bus = new InProcessBus();
  const a = node(bus, 1);
  await a.router.start();
  const b = node(bus, 2);
  await b.router.start();
  t.teardown(async () => {
    await b.router.stop();
    // A test that stops node 1 itself (the handover) leaves only node 2 to stop here.
    if (o.stopFirst !== false) await a.router.stop();
  });
  return { a, b, bus };
}

t.test('commands reach the owner with positions; effects reach the node of each connection', async (t) => {
  const { a, b } = await twoNodes(t);
  // The oldest member owns every partition on the in-process bus: node 1.
  await waitFor('node 1 owns the partitions', () => Object.values(a.router.ownership()).flat().length === 8);
  const connOnB = 2 * CONN_SPACE + 7;
  b.router.dispatch(cmd.chat({ conn: connOnB, user: 'bob', room: 'r1', ref: 3, text: 'hi' }));
  await waitFor('the owner received it', () => a.received.length === 1);
  t.same(a.received[0]!.slice(0, 7), cmd.chat({ conn: connOnB, user: 'bob', room: 'r1', ref: 3, text: 'hi' }));
  t.ok(positionOf(a.received[0]!) >= 0, 'stamped with its log position');
  t.equal(b.received.length, 0, 'the non-owner runs no actor');

  const frame = new Uint8Array([1, 2, 3]);
  // The room's members are on node 2 only (the actor lists them on the broadcast).
  a.router.routeEffects([eff.origin('room', 'r1'), eff.send(connOnB, frame), [Eff.PUBLISH, 'r1', frame, [2]], eff.subscribe(connOnB, 'r1', Role.VIEWER)]);
  await waitFor('node 2 applied its effects', () => b.applied.length === 3);
  t.same(b.applied, [eff.send(connOnB, frame), [Eff.PUBLISH, 'r1', frame, [2]], eff.subscribe(connOnB, 'r1', Role.VIEWER)], 'its connection\'s effects and the publish, in order');
  await a.router.effectsDurable();
  await new Promise((r) => setTimeout(r, 50));
  t.same(a.applied, [], 'node 1 has no member there: it applied nothing');
  t.equal(a.counts.events_received, undefined, 'and did not even receive the record');
  t.equal(b.counts.events_received, 1, 'node 2 received it once');
});

t.test('a turn\'s record goes once to each node that needs it, and nowhere when none does', async (t) => {
  const bus = new InProcessBus();
  const nodes = [node(bus, 1), node(bus, 2), node(bus, 3), node(bus, 4)];
  for (const n of nodes) await n.router.start();
  t.teardown(async () => {
    for (const n of nodes.reverse()) await n.router.stop();
  });
  const [owner, two, three, four] = nodes as [FakeNode, FakeNode, FakeNode, FakeNode];
  const frame = new Uint8Array([9]);
  const connOn3 = 3 * CONN_SPACE + 1;
  owner.router.routeEffects([
    // Turn of r1: members on nodes 2 and 4; a reply to a connection on node 3 (not a member).
    eff.origin('room', 'r1'), [Eff.PUBLISH, 'r1', frame, [2, 4]], eff.send(connOn3, frame),
    // Turn of r2: a broadcast in a room with no members anywhere.
    eff.origin('room', 'r2'), [Eff.PUBLISH, 'r2', frame, []],
    // Turn of a user: a direct message to its connection on node 2.
    eff.origin('user', 'u1'), eff.send(2 * CONN_SPACE + 5, frame),
  ]);
  await owner.router.effectsDurable();
  // Node 3 receives r1's record for its reply; the broadcast in it is not for node 3 (no member there).
  await waitFor('every node applied what it needs', () => two.applied.length === 2 && three.applied.length === 1 && four.applied.length === 1);
  await new Promise((r) => setTimeout(r, 50));
  t.same(two.applied, [[Eff.PUBLISH, 'r1', frame, [2, 4]], eff.send(2 * CONN_SPACE + 5, frame)], 'node 2: the r1 broadcast and its DM');
  t.same(three.applied, [eff.send(connOn3, frame)], 'node 3: only the reply to its connection');
  t.same(four.applied, [[Eff.PUBLISH, 'r1', frame, [2, 4]]], 'node 4: the r1 broadcast');
  t.same(owner.applied, [], 'the owner, with no member anywhere, got nothing');
  t.equal(owner.counts.events_published, 4, 'four records: r1 to nodes 2, 3 and 4, the DM to node 2; none for r2');
  t.same(nodes.map((n) => n.counts.events_received ?? 0), [0, 2, 1, 1], 'each node received only its records');
  t.same(nodes.map((n) => n.counts.events_not_needed ?? 0), [0, 0, 0, 0], 'none it did not need');
});

t.test('a broadcast without its nodes still reaches every node', async (t) => {
  const bus = new InProcessBus();
  const nodes = [node(bus, 1, 4), node(bus, 2, 4), node(bus, 3, 4)];
  for (const n of nodes) await n.router.start();
  t.teardown(async () => {
    for (const n of [...nodes].reverse()) await n.router.stop();
  });
  const frame = new Uint8Array([5]);
  nodes[0]!.router.routeEffects([eff.origin('room', 'r'), eff.publish('r', frame)]);
  await waitFor('every node applied it', () => nodes.every((n) => n.applied.length === 1));
  t.same(nodes.map((n) => n.applied), nodes.map(() => [eff.publish('r', frame)]), 'the safe fallback: everyone, as before interest routing');
});

t.test('nodes sharing an events partition skip each other\'s records', async (t) => {
  const bus = new InProcessBus();
  // Two partitions: nodes 1 and 3 both read partition 1.
  const one = node(bus, 1, 2);
  const three = node(bus, 3, 2);
  await one.router.start();
  await three.router.start();
  t.teardown(async () => {
    await three.router.stop();
    await one.router.stop();
  });
  const frame = new Uint8Array([7]);
  one.router.routeEffects([eff.origin('room', 'r'), [Eff.PUBLISH, 'r', frame, [3]]]);
  await waitFor('node 3 applied it', () => three.applied.length === 1);
  await waitFor('node 1 read it too', () => (one.counts.events_received ?? 0) === 1);
  t.same(one.applied, [], 'node 1 applied nothing');
  t.equal(one.counts.events_not_needed, 1, 'and counted the record it did not need');
  t.equal(three.counts.events_not_needed, undefined, 'node 3 needed it');
});

t.test('a worker restart asks every node to re-join; unreadable records are counted and skipped', async (t) => {
  const { a, b, bus } = await twoNodes(t);
  await waitFor('ownership', () => Object.values(a.router.ownership()).flat().length === 8);
  const rejoin = cmd.join({ conn: 2 * CONN_SPACE + 1, user: 'carol', room: 'r2', role: Role.VIEWER, ref: 0, sinceSeq: -1, reattach: true });
  b.reattach.push(rejoin);
  await a.router.workerRestarted();
  await waitFor('the owner got node 2\'s re-join through the log', () => a.received.some((c) => c[1] === rejoin[1]));
  await bus.publish([{ topic: 'unit.room-commands', records: [{ partition: 0, value: new Uint8Array([0xc1]) }] }]);
  await waitFor('counted', () => (a.counts.bad_records ?? 0) === 1);
  t.equal(a.counts.bad_records, 1, 'a garbage command record is skipped, not fatal');
});

t.test('a node that stops hands its partitions over; the new owner evicts and resumes from the log', async (t) => {
  const { a, b } = await twoNodes(t, { stopFirst: false });
  await waitFor('node 1 owns', () => Object.values(a.router.ownership()).flat().length === 8);
  await a.router.stop();
  await waitFor('node 2 owns everything now', () => Object.values(b.router.ownership()).flat().length === 8);
  b.router.dispatch(cmd.chat({ conn: 2 * CONN_SPACE + 9, user: 'dan', room: 'r3', ref: 1, text: 'still here' }));
  await waitFor('node 2 runs the room', () => b.received.length === 1);
  t.ok(b.evicted.length > 0, 'it dropped stale actors of the partitions it took');
});

t.test('a batch whose hand-over failed comes again before anything after it reaches the workers', async (t) => {
  // A bus driven by hand: the first two publishes fail (the REATTACH of a gained partition), like a broker away.
  let handlers: SharedHandlers | null = null;
  let failures = 2;
  const bus: EventBus = {
    ensureTopics: async () => undefined,
    publish: async () => {
      if (failures-- > 0) throw new Error('broker away');
    },
    consumeShared: async (_group, _topics, h) => {
      handlers = h;
      return { stop: async () => undefined };
    },
    consumeAll: async () => ({ stop: async () => undefined }),
    close: async () => undefined,
  };
  const f = node(bus, 1);
  await f.router.start();
  t.teardown(() => f.router.stop());
  const topic = f.router.topics.roomCommands;
  handlers!.onAssignment(new Map([[topic, [0]]]));
  await new Promise((r) => setImmediate(r)); // the immediate REATTACH attempt fails (one failure used)
  const chat = (ref: number) => cmd.chat({ conn: CONN_SPACE + 1, user: 'ann', room: 'r', ref, text: `m${ref}` });
  const batch = (from: number) => ({ topic, partition: 0, records: [0, 1].map((i) => ({ offset: from + i, value: encode(chat(from + i)) })) });
  const first = handlers!.onBatch(batch(10));
  const second = handlers!.onBatch(batch(12));
  await t.rejects(first.taken, /broker away/, 'the first batch could not be prepared');
  await t.rejects(second.taken, /has not come again/, 'the batch after it waits for it');
  t.same(f.received, [], 'nothing reached the workers');
  const again = handlers!.onBatch(batch(10));
  await again.taken;
  const after = handlers!.onBatch(batch(12));
  await after.taken;
  await Promise.all([again.done, after.done]);
  t.same(f.received.map(positionOf), [10, 11, 12, 13], 'then everything, in log order');
});
