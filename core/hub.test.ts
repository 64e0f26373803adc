import t from 'tap';
import { Hub } from './hub';
import { Session } from './session';
import { FakeTransport } from './testing/fake-transport';
import { CoreMetrics } from './metrics';
import { loadConfig } from '../config/config';
import { signAccessToken, verifyAccessToken } from './auth/jwt';
import { Cmd, Eff, type Command, type Effect } from '../actors/messages';
import { encode, errorFrame, replyFrame } from '../protocol/codec';
import { ClientOp, CloseCode, ErrorCode, Role, ServerOp } from '../protocol/codes';

const config = loadConfig({ HALOBUZZ_JWT_SECRET: 'h'.repeat(40), HALOBUZZ_MAX_BACKPRESSURE_BYTES: '16384', HALOBUZZ_HELLO_TIMEOUT_MS: '1000' });
const auth = config.auth;

function setup() {
  const published: [string, Uint8Array][] = [];
  const dispatched: Command[] = [];
  const analytics: unknown[] = [];
  const metrics = new CoreMetrics(false);
  const clock = { now: 1_000_000 };
  /** Every analytics event, and how many frames had been sent to sockets when it was recorded. */
  const recorded: { id: string; sentBefore: number }[] = [];
  const sockets: FakeTransport[] = [];
  const sentSoFar = () => sockets.reduce((n, tr) => n + tr.frames.length, 0);
  const hub = new Hub({ publish: (topic, frame) => void published.push([topic, frame]) }, (c) => void dispatched.push(c), metrics, config.limits, (events) => {
    analytics.push(...events);
    for (const e of events) recorded.push({ id: e.id, sentBefore: sentSoFar() });
  });
  const open = (user?: string, sid = 'sid-1', ttlSec = 3600) => {
    const transport = new FakeTransport();
    const session = new Session(hub.newConnectionId(), transport, {
      nodeId: 'n1', limits: config.limits, metrics,
      verifyToken: (tok) => verifyAccessToken(tok, { secret: auth.jwtSecret, issuer: auth.jwtIssuer, audience: auth.jwtAudience, now: Math.floor(clock.now / 1000) }),
      isRevoked: () => false, dispatch: (c) => void dispatched.push(c), userChatBucket: (u) => hub.userChatBucket(u),
      isShadowMuted: () => false,
      onAuthenticated: (s) => hub.authenticated(s, clock.now), track: (e) => void analytics.push(e), isShuttingDown: () => false, now: () => clock.now,
    });
    sockets.push(transport);
    hub.add(session);
    if (user) {
      const token = signAccessToken({ sub: user, sid, ttlSec, issuer: auth.jwtIssuer, audience: auth.jwtAudience, now: Math.floor(clock.now / 1000) }, auth.jwtSecret);
      session.handleFrame(encode([ClientOp.HELLO, 1, 1, token]), true);
    }
    return { session, transport };
  };
  return { hub, published, dispatched, analytics, recorded, sentSoFar, metrics, clock, open };
}

t.test('effects reach sockets in order: sends, subscriptions, publishes, closes, analytics', async (t) => {
  const { hub, published, analytics, open } = setup();
  const a = open('alice');
  const b = open('bob');
  const effects: Effect[] = [
    [Eff.SUBSCRIBE, a.session.id, 'r1', Role.VIEWER],
    [Eff.SUBSCRIBE, b.session.id, 'r1', Role.HOST],
    [Eff.SEND, a.session.id, replyFrame(7, { ok: true })],
    [Eff.PUBLISH, 'r1', encode([ServerOp.ROOM_PRESENCE, 'r1', 2])],
    [Eff.ANALYTICS, { id: 'e1', ts: 1, type: 'chat', room: 'r1', user: 'alice' }],
  ];
  hub.applyEffects(effects, 1_000_000);
  t.ok(a.transport.topics.has('r1') && b.transport.topics.has('r1'), 'both subscribed');
  t.equal(hub.viewers('r1'), 2);
  t.same(a.transport.last, [ServerOp.REPLY, 7, { ok: true }]);
  t.equal(published.length, 1);
  t.same(analytics.filter((e) => (e as { type: string }).type === 'chat'), [{ id: 'e1', ts: 1, type: 'chat', room: 'r1', user: 'alice' }]);
  hub.applyEffects([[Eff.UNSUBSCRIBE, a.session.id, 'r1'], [Eff.CLOSE, b.session.id, CloseCode.POLICY_VIOLATION, 'bye']]);
  t.notOk(a.transport.topics.has('r1'));
  t.equal(hub.viewers('r1'), 1, 'the index follows unsubscribes');
  t.equal(b.transport.closedWith?.code, CloseCode.POLICY_VIOLATION);
});

t.test('an actor turn\'s analytics are recorded in one write before any of its replies is sent', async (t) => {
  const { hub, recorded, sentSoFar, open } = setup();
  const a = open('alice');
  const before = sentSoFar();
  hub.applyEffects([
    [Eff.SEND, a.session.id, replyFrame(9, { seq: 1 })],
    [Eff.ANALYTICS, { id: 'chat-1', ts: 1, type: 'chat', room: 'r1', user: 'alice' }],
    [Eff.ANALYTICS, { id: 'gift:op-1', ts: 1, type: 'gift', room: 'r1', user: 'alice', coins: 5 }],
  ]);
  t.same(recorded, [{ id: 'chat-1', sentBefore: before }, { id: 'gift:op-1', sentBefore: before }], 'both recorded before the reply went out');
  t.equal(sentSoFar(), before + 1, 'and the reply then went out');
});

t.test('closing every socket at shutdown records each open visit\'s leave and the disconnect at once', async (t) => {
  const { hub, analytics, open } = setup();
  const a = open('alice');
  hub.applyEffects([[Eff.SUBSCRIBE, a.session.id, 'r1', Role.VIEWER], [Eff.SUBSCRIBE, a.session.id, 'r2', Role.HOST]]);
  analytics.length = 0;
  hub.closeAll(CloseCode.SERVER_SHUTDOWN, 'bye');
  t.match(analytics, [
    { type: 'leave', room: 'r1', role: 'viewer', endedBy: 'server' },
    { type: 'leave', room: 'r2', role: 'host', endedBy: 'server' },
    { type: 'disconnect', user: 'alice', endedBy: 'server' },
  ], 'recorded without waiting for the transport to report the close');
  t.equal(hub.viewers('r1'), 0);
  hub.remove(a.session);
  t.equal(analytics.length, 3, 'the transport\'s later close report records nothing twice');
});

t.test('every error an actor sends is counted by code', async (t) => {
  const { hub, metrics, open } = setup();
  const a = open('alice');
  hub.applyEffects([
    [Eff.SEND, a.session.id, errorFrame(3, ErrorCode.NOT_ROOM_OWNER, 'no')],
    [Eff.SEND, a.session.id, errorFrame(4, ErrorCode.INSUFFICIENT_FUNDS, 'poor', { need: 5 })],
    [Eff.SEND, a.session.id, replyFrame(5, {})],
  ]);
  t.equal(await metrics.value('halobuzz_errors_total', { code: String(ErrorCode.NOT_ROOM_OWNER) }), 1);
  t.equal(await metrics.value('halobuzz_errors_total', { code: String(ErrorCode.INSUFFICIENT_FUNDS) }), 1);
  t.equal(await metrics.value('halobuzz_errors_total'), 2, 'replies are not errors');
});

t.test('a subscribe for a socket that closed meanwhile tells the room to forget it', async (t) => {
  const { hub, dispatched, open } = setup();
  const a = open('alice');
  hub.remove(a.session);
  dispatched.length = 0;
  hub.applyEffects([[Eff.SUBSCRIBE, a.session.id, 'r1', Role.VIEWER]]);
  t.same(dispatched, [[Cmd.LEAVE, a.session.id, '', 'r1', 0]]);
});

t.test('slow consumers are closed after publishes and on the sweep', async (t) => {
  const { hub, open } = setup();
  const fast = open('fast');
  const slow = open('slow');
  hub.applyEffects([[Eff.SUBSCRIBE, fast.session.id, 'busy', Role.VIEWER], [Eff.SUBSCRIBE, slow.session.id, 'busy', Role.VIEWER]]);
  slow.transport.buffered = 20_000;
  // Half the limit published to the room triggers a check at once.
  hub.applyEffects([[Eff.PUBLISH, 'busy', new Uint8Array(9000)]], 1_000_000);
  t.equal(slow.transport.closedWith?.code, CloseCode.SLOW_CONSUMER);
  t.equal(fast.transport.closedWith, null);
  const other = open('other');
  other.transport.buffered = 20_000;
  hub.sweep(1_000_000);
  t.equal(other.transport.closedWith?.code, CloseCode.SLOW_CONSUMER, 'the sweep catches direct sends too');
});

t.test('the sweep enforces the hello timeout and token expiry', async (t) => {
  const { hub, open, clock } = setup();
  const silent = open();
  const expiring = open('short', 'sid-2', 30);
  hub.sweep(clock.now + 500);
  t.equal(silent.transport.closedWith, null, 'within the hello timeout');
  hub.sweep(clock.now + 1500);
  t.equal(silent.transport.closedWith?.code, CloseCode.HELLO_TIMEOUT);
  t.equal(expiring.transport.closedWith, null);
  hub.sweep(clock.now + 31_000);
  t.equal(expiring.transport.closedWith?.code, CloseCode.TOKEN_EXPIRED);
});

t.test('revoking an auth session closes exactly its sockets; re-attach lists joined rooms', async (t) => {
  const { hub, open } = setup();
  const a1 = open('alice', 'sid-a');
  const a2 = open('alice', 'sid-a');
  const other = open('alice', 'sid-b');
  hub.applyEffects([[Eff.SUBSCRIBE, other.session.id, 'r9', Role.HOST]]);
  t.equal(hub.revokeSession('sid-a'), 2);
  t.equal(a1.transport.closedWith?.code, CloseCode.SESSION_REVOKED);
  t.equal(a2.transport.closedWith?.code, CloseCode.SESSION_REVOKED);
  t.equal(other.transport.closedWith, null);
  const reattach = hub.reattachCommands(() => true).filter((c) => c[1] === other.session.id);
  t.same(reattach, [[Cmd.ONLINE, other.session.id, 'alice', 1], [Cmd.JOIN, other.session.id, 'alice', 'r9', Role.HOST, 0, -1, 1, '', '']]);
  t.same(hub.userConnections().get('alice'), 3);
});
