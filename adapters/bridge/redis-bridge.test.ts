import t from 'tap';
import { RedisBridge } from './redis-bridge';
import type { RealtimeBridgeNode } from './realtime-bridge';
import { engineUrl, type Engine } from '../../test/helpers/services';
import { waitFor } from '../../tools/server-process';
import { openRedis } from '../redis/open-redis';

for (const engine of ['redis', 'redis-cluster'] as Engine[]) {
  t.test(`${engine}: a revocation of hundreds of sessions reaches the socket node whole; bad messages are reported`, async (t) => {
    const url = engineUrl(t, engine);
    if (!url) return;
    const revoked: string[] = [];
    const ended: [string, string][] = [];
    const delivered: [string, number[]][] = [];
    const errors: string[] = [];
    const moderated: unknown[][] = [];
    const shadow: [string, number | null][] = [];
    const optOuts: [string, boolean][] = [];
    const node: RealtimeBridgeNode = {
      analyticsOptOut: (user, declined) => void optOuts.push([user, declined]),
      moderate: (room, by, action, args) => void moderated.push([room, by, action, args]),
      shadowMute: (user, until) => void shadow.push([user, until]),
      viewers: () => 0,
      localViewerCounts: () => new Map([['room-a', 3]]),
      revoke: (sids) => void revoked.push(...sids),
      endStream: (room, owner) => void ended.push([room, owner]),
      deliver: (user, frame) => void delivered.push([user, [...frame]]),
    };
    const socketSide = await RedisBridge.connect(url);
    const apiSide = await RedisBridge.connect(url);
    t.teardown(async () => {
      await socketSide.close();
      await apiSide.close();
    });
    await socketSide.serve(`bridge-test-${process.pid}`, node, 200, (job, err) => void errors.push(`${job}: ${err.message}`), 'wss://a.example.com/ws');
    const sids = Array.from({ length: 300 }, (_, i) => `sid-${i}`);
    await apiSide.revokeSessions(sids);
    await apiSide.endStream('room-a', 'owner-a');
    await apiSide.deliver('user-a', new Uint8Array([0x92, 0x5b, 0x01]));
    await waitFor('revocations, the stream end and the delivery arrive', () => revoked.length === 300 && ended.length === 1 && delivered.length === 1, 5000);
    t.same(delivered, [['user-a', [0x92, 0x5b, 0x01]]], 'a frame for a user crosses byte for byte');
    t.same(revoked, sids, 'all 300 session ids, in order');
    t.same(ended, [['room-a', 'owner-a']]);
    // A second socket node: a moderation action is dispatched by one node only; a shadow mute reaches both.
    const other = await RedisBridge.connect(url);
    await other.serve(`bridge-test-other-${process.pid}`, { ...node, localViewerCounts: () => new Map([['room-a', 5], ['room-c', 1]]) }, 200, (job, err) => void errors.push(`other ${job}: ${err.message}`), 'wss://b.example.com/ws');
    await apiSide.moderate('room-a', 'staff-1', 'kick', ['user-b']);
    await apiSide.shadowMute('user-c', 1234);
    await apiSide.analyticsOptOut('user-d', true);
    await waitFor('both nodes hear the shadow mute and the opt-out', () => shadow.length === 2 && optOuts.length === 2, 5000);
    await new Promise((r) => setTimeout(r, 200));
    const presence = await apiSide.roomPresence(['room-a', 'room-b', 'room-c']);
    t.same(presence.get('room-a'), { viewers: 8, nodes: ['wss://b.example.com/ws', 'wss://a.example.com/ws'] }, 'viewers summed over both nodes; the node with more of them first');
    t.same(presence.get('room-b'), { viewers: 0, nodes: [] }, 'a room nobody watches: 0, no node');
    t.same(presence.get('room-c'), { viewers: 1, nodes: ['wss://b.example.com/ws'] });
    await other.close();
    t.same(moderated, [['room-a', 'staff-1', 'kick', ['user-b']]], 'one of the two nodes took the moderation action');
    t.same(shadow, [['user-c', 1234], ['user-c', 1234]]);
    t.same(optOuts, [['user-d', true], ['user-d', true]]);

    const raw = await openRedis(url);
    t.teardown(() => raw.quit());
    await raw.publish('halobuzz:revoked', Buffer.from([0xc1]));
    await raw.publish('halobuzz:room-end', Buffer.from([0x92, 0x01, 0x02]));
    await waitFor('both bad messages are reported', () => errors.length === 2, 5000);
    t.match(errors, [/^bridge_message: /, /^bridge_message: .*expected \[room, owner\]/]);
  });
}
