import t from 'tap';
import { LocalBridge } from './local-bridge';
import type { RealtimeBridgeNode } from './realtime-bridge';

t.test('the local bridge reaches the node in this process directly', async (t) => {
  const revoked: string[] = [];
  const ended: string[] = [];
  const delivered: string[] = [];
  const moderated: string[] = [];
  const node: RealtimeBridgeNode = {
    moderate: (room, by, action, args) => void moderated.push(`${room}/${by}/${action}/${args.join(',')}`),
    shadowMute: (user, until) => void moderated.push(`shadow ${user} ${until}`),
    analyticsOptOut: (user, declined) => void moderated.push(`analytics ${user} ${declined}`),
    viewers: (room) => (room === 'busy' ? 7 : 0),
    localViewerCounts: () => new Map([['busy', 7]]),
    revoke: (sids) => void revoked.push(...sids),
    endStream: (room, owner) => void ended.push(`${room}/${owner}`),
    deliver: (user, frame) => void delivered.push(`${user}:${frame.length}`),
  };
  const bridge = new LocalBridge(node);
  t.same([...(await bridge.roomPresence(['busy', 'quiet']))], [['busy', { viewers: 7, nodes: [] }], ['quiet', { viewers: 0, nodes: [] }]]);
  const named = new LocalBridge(node, 'wss://n1.example.com/ws');
  t.same([...(await named.roomPresence(['busy', 'quiet']))], [['busy', { viewers: 7, nodes: ['wss://n1.example.com/ws'] }], ['quiet', { viewers: 0, nodes: [] }]], 'a node with a public URL names itself where it has viewers');
  await bridge.revokeSessions(['s1', 's2']);
  await bridge.endStream('busy', 'host');
  t.same(revoked, ['s1', 's2']);
  t.same(ended, ['busy/host']);
  await bridge.deliver('ann', new Uint8Array(3));
  t.same(delivered, ['ann:3']);
  await bridge.moderate('busy', 'staff', 'kick', ['bob']);
  await bridge.shadowMute('eve', null);
  await bridge.analyticsOptOut('eve', true);
  t.same(moderated, ['busy/staff/kick/bob', 'shadow eve null', 'analytics eve true']);
});
