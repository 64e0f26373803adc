import t from 'tap';
import type { ActorAnalyticsEvent } from '../actors/messages';
import { encode } from '../protocol/codec';
import { ClientOp, CloseCode, ErrorCode, Role, ServerOp } from '../protocol/codes';
import { Session } from './session';
import { FakeTransport } from './testing/fake-transport';
import { CoreMetrics } from './metrics';
import { TokenBucket } from './rate-limit';
import { loadConfig } from '../config/config';
import { signAccessToken, verifyAccessToken } from './auth/jwt';
import { Cmd, type Command } from '../actors/messages';

const config = loadConfig({ HALOBUZZ_JWT_SECRET: 's'.repeat(40), HALOBUZZ_MAX_ROOMS_PER_CONNECTION: '2', HALOBUZZ_CHAT_BURST: '3', HALOBUZZ_ABUSE_ERROR_LIMIT: '5' });
const auth = config.auth;

function setup(now = { t: 1_000_000 }, shadowMuted: readonly string[] = [], region: { ipCountry?: string | null; regionOverride?: 'when_unknown' | 'always' | 'never' } = {}) {
  const transport = new FakeTransport();
  const commands: Command[] = [];
  const tracked: ActorAnalyticsEvent[] = [];
  const metrics = new CoreMetrics(false);
  const userBucket = new TokenBucket(100, 100, now.t);
  const session = new Session(7, transport, {
    nodeId: 'n1',
    limits: config.limits,
    metrics,
    verifyToken: (tok) => verifyAccessToken(tok, { secret: auth.jwtSecret, issuer: auth.jwtIssuer, audience: auth.jwtAudience, now: Math.floor(now.t / 1000) }),
    isRevoked: (sid) => sid === 'revoked-sid',
    isShadowMuted: (user) => shadowMuted.includes(user),
    ...region,
    dispatch: (c) => commands.push(c),
    userChatBucket: () => userBucket,
    onAuthenticated: () => undefined,
    track: (e) => void tracked.push(e),
    isShuttingDown: () => false,
    now: () => now.t,
  });
  const send = (frame: unknown[]) => session.handleFrame(encode(frame), true);
  const token = (sub = 'alice', ttlSec = 3600, sid = 'sid-1', roles?: string[]) => signAccessToken({ sub, sid, ttlSec, ...(roles ? { roles } : {}), issuer: auth.jwtIssuer, audience: auth.jwtAudience, now: Math.floor(now.t / 1000) }, auth.jwtSecret);
  return { session, transport, commands, metrics, send, token, now, tracked };
}

t.test('hello with a valid token authenticates and tells the user actor', async (t) => {
  const { session, transport, commands, send, token } = setup();
  send([ClientOp.HELLO, 1, 1, token()]);
  t.equal(session.user, 'alice');
  t.equal(transport.last?.[0], ServerOp.REPLY);
  t.equal(transport.last?.[1], 1);
  t.match(transport.last?.[2], { v: 1, user: 'alice', sid: 'sid-1', node: 'n1', conn: 7 });
  t.same(commands, [[Cmd.ONLINE, 7, 'alice', 0]]);
});

t.test('requests before hello get NOT_AUTHENTICATED and reach no actor', async (t) => {
  const { transport, commands, send } = setup();
  send([ClientOp.JOIN, 4, 'room1', 0]);
  t.same(transport.last, [ServerOp.ERROR, 4, ErrorCode.NOT_AUTHENTICATED, 'send hello first']);
  t.equal(commands.length, 0);
  t.equal(transport.closedWith, null);
});

t.test('a bad token closes with AUTH_FAILED, an expired one with TOKEN_EXPIRED', async (t) => {
  const a = setup();
  a.send([ClientOp.HELLO, 1, 1, a.token().slice(0, -3) + 'AAA']);
  t.equal(a.transport.closedWith?.code, CloseCode.AUTH_FAILED);
  t.equal(a.session.user, null);
  const b = setup();
  const old = b.token('alice', 1);
  b.now.t += 60_000;
  b.send([ClientOp.HELLO, 1, 1, old]);
  t.equal(b.transport.closedWith?.code, CloseCode.TOKEN_EXPIRED);
  t.equal(await b.metrics.value('halobuzz_closes_total', { code: String(CloseCode.TOKEN_EXPIRED) }), 1);
});

t.test('a token of a revoked session closes with SESSION_REVOKED', async (t) => {
  const { session, transport, commands, send, token } = setup();
  send([ClientOp.HELLO, 1, 1, token('alice', 3600, 'revoked-sid')]);
  t.equal(transport.closedWith?.code, CloseCode.SESSION_REVOKED);
  t.equal(session.user, null);
  t.equal(commands.length, 0);
});

t.test('an unsupported protocol version is answered, then closed', async (t) => {
  const { transport, send, token } = setup();
  send([ClientOp.HELLO, 1, 2, token()]);
  t.equal(transport.last?.[2], ErrorCode.BAD_ARGUMENTS);
  t.same(transport.last?.[4], { supported: [1] });
  t.equal(transport.closedWith?.code, CloseCode.UNSUPPORTED_VERSION);
});

t.test('a second hello is refused without closing', async (t) => {
  const { transport, send, token } = setup();
  send([ClientOp.HELLO, 1, 1, token()]);
  send([ClientOp.HELLO, 2, 1, token()]);
  t.equal(transport.last?.[2], ErrorCode.ALREADY_AUTHENTICATED);
  t.equal(transport.closedWith, null);
});

t.test('join, chat and leave become actor commands; chat needs a confirmed join', async (t) => {
  const { session, transport, commands, send, token } = setup();
  send([ClientOp.HELLO, 1, 1, token()]);
  commands.length = 0;
  send([ClientOp.CHAT, 2, 'room1', 'too early']);
  t.equal(transport.last?.[2], ErrorCode.NOT_IN_ROOM);
  send([ClientOp.JOIN, 3, 'room1', Role.HOST]);
  t.same(commands.at(-1), [Cmd.JOIN, 7, 'alice', 'room1', Role.HOST, 3, -1, 0, '', '']);
  session.subscribed('room1', Role.HOST);
  t.ok(transport.topics.has('room1'));
  send([ClientOp.CHAT, 4, 'room1', 'hello']);
  t.same(commands.at(-1), [Cmd.CHAT, 7, 'alice', 'room1', 4, 'hello', 0]);
  send([ClientOp.RESUME, 5, 'room1', 10]);
  t.same(commands.at(-1), [Cmd.JOIN, 7, 'alice', 'room1', Role.VIEWER, 5, 10, 0, '', '']);
  send([ClientOp.LEAVE, 6, 'room1']);
  t.same(commands.at(-1), [Cmd.LEAVE, 7, 'alice', 'room1', 6]);
  session.unsubscribed('room1');
  t.notOk(transport.topics.has('room1'));
  send([ClientOp.LEAVE, 7, 'room1']);
  t.equal(transport.last?.[2], ErrorCode.NOT_IN_ROOM);
});

t.test('room limit, chat length, self-DM and rate limits each have their code', async (t) => {
  const { transport, commands, send, token, session } = setup();
  send([ClientOp.HELLO, 1, 1, token()]);
  send([ClientOp.JOIN, 2, 'r1']);
  send([ClientOp.JOIN, 3, 'r2']);
  send([ClientOp.JOIN, 4, 'r3']);
  t.equal(transport.last?.[2], ErrorCode.TOO_MANY_ROOMS);
  session.subscribed('r1', Role.VIEWER);
  send([ClientOp.CHAT, 5, 'r1', 'x'.repeat(config.limits.maxChatChars + 1)]);
  t.equal(transport.last?.[2], ErrorCode.MESSAGE_TOO_LONG);
  send([ClientOp.DM, 6, 'alice', 'me']);
  t.equal(transport.last?.[2], ErrorCode.INVALID_RECIPIENT);
  const before = commands.length;
  for (let i = 0; i < 3; i++) send([ClientOp.CHAT, 10 + i, 'r1', `m${i}`]);
  t.equal(commands.length, before + 3, 'burst of 3 passes');
  send([ClientOp.CHAT, 20, 'r1', 'one too many']);
  t.equal(transport.last?.[2], ErrorCode.RATE_LIMITED);
  t.ok((transport.last?.[4] as { retryAfterMs: number }).retryAfterMs > 0);
  t.equal(commands.length, before + 3, 'the limited chat reached no actor');
});

t.test('malformed, text and unknown frames are answered and counted; repeated abuse closes', async (t) => {
  const { session, transport, metrics, send } = setup();
  session.handleFrame(Buffer.from([0xc1]), true);
  t.same(transport.last?.slice(0, 3), [ServerOp.ERROR, 0, ErrorCode.BAD_FRAME]);
  session.handleFrame(Buffer.from('hello'), false);
  t.same(transport.last?.slice(0, 3), [ServerOp.ERROR, 0, ErrorCode.TEXT_FRAME]);
  send([99, 3]);
  t.same(transport.last?.slice(0, 3), [ServerOp.ERROR, 3, ErrorCode.UNKNOWN_OP]);
  t.equal(await metrics.value('halobuzz_errors_total', { code: String(ErrorCode.BAD_FRAME) }), 1);
  t.equal(transport.closedWith, null);
  for (let i = 0; i < 3; i++) send([99, 4 + i]);
  t.equal(transport.closedWith?.code, CloseCode.POLICY_VIOLATION);
});

t.test('closing tells every joined room and the user actor', async (t) => {
  const { session, commands, send, token, tracked, now } = setup();
  send([ClientOp.HELLO, 1, 1, token(), { platform: 'android', app: '5.0.1', country: 'NP' }]);
  t.match(tracked, [{ type: 'connect', user: 'alice', platform: 'android', appVersion: '5.0.1', country: 'NP' }], 'connect is tracked with client info');
  send([ClientOp.JOIN, 2, 'r1']);
  session.subscribed('r1', Role.VIEWER);
  send([ClientOp.JOIN, 3, 'r2']);
  commands.length = 0;
  now.t += 90_000;
  session.handleClose();
  t.match(tracked.at(-1), { type: 'disconnect', user: 'alice', durationMs: 90_000 }, 'disconnect carries the session length');
  t.same(commands, [[Cmd.LEAVE, 7, 'alice', 'r1', 0], [Cmd.LEAVE, 7, 'alice', 'r2', 0], [Cmd.OFFLINE, 7, 'alice']]);
  t.same(session.reattachCommands(() => true), [], 'a closed session re-attaches nowhere');
});

t.test('room visits: a join when the room accepts, one leave per visit with its watch time and who ended it', async (t) => {
  const { session, send, token, tracked, now } = setup();
  send([ClientOp.HELLO, 1, 1, token(), { platform: 'ios', app: '2.1.0', country: 'DE' }]);
  const sessionId = session.analyticsId;
  t.match(tracked[0], { id: `connect:${sessionId}`, type: 'connect', session: sessionId });
  send([ClientOp.JOIN, 2, 'r1']);
  t.equal(tracked.length, 1, 'no join before the room accepted it');
  session.subscribed('r1', Role.VIEWER);
  const join = tracked[1]!;
  t.match(join, { type: 'join', room: 'r1', role: 'viewer', session: sessionId, platform: 'ios', appVersion: '2.1.0', country: 'DE', ts: now.t });
  now.t += 5_000;
  session.subscribed('r1', Role.VIEWER);
  t.equal(tracked.length, 2, 'a repeated JOIN (or a re-attach after a worker restart) continues the visit');
  now.t += 7_000;
  session.unsubscribed('r1');
  t.match(tracked[2], { id: `leave:${join.id}`, type: 'leave', room: 'r1', visit: join.id, durationMs: 12_000, endedBy: 'client', role: 'viewer' });
  send([ClientOp.JOIN, 3, 'r2', Role.HOST]);
  session.subscribed('r2', Role.HOST);
  now.t += 3_000;
  session.close(CloseCode.SERVER_SHUTDOWN, 'bye');
  session.handleClose();
  t.match(tracked.slice(3), [
    { type: 'join', room: 'r2', role: 'host' },
    { type: 'leave', room: 'r2', role: 'host', durationMs: 3_000, endedBy: 'server' },
    { id: `disconnect:${sessionId}`, type: 'disconnect', endedBy: 'server', durationMs: 15_000, country: 'DE' },
  ], 'closing by the server ends the open visit and the connection, both marked as ended by the server');
  session.handleClose();
  t.equal(tracked.length, 6, 'closing twice records nothing more');
});

t.test('every failed hello answers one ERROR with its ref, counted, then closes', async (t) => {
  const cases: [unknown[], number, number][] = [
    [[ClientOp.HELLO, 3, 1], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[ClientOp.HELLO, 3, 1, null], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[ClientOp.HELLO, 3, 1, 7], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[ClientOp.HELLO, 3, 1, ''], ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[ClientOp.HELLO, 3, '1', 'x'], ErrorCode.BAD_ARGUMENTS, CloseCode.UNSUPPORTED_VERSION],
    [[ClientOp.HELLO, 3, 2, 'x'], ErrorCode.BAD_ARGUMENTS, CloseCode.UNSUPPORTED_VERSION],
    [[ClientOp.HELLO, 3, 1, 'not.a.jwt'], ErrorCode.NOT_AUTHENTICATED, CloseCode.AUTH_FAILED],
  ];
  for (const [frame, code, close] of cases) {
    const { transport, send, metrics, session } = setup();
    send(frame);
    const errors = transport.frames.filter((f) => f[0] === ServerOp.ERROR);
    t.equal(errors.length, 1, `${JSON.stringify(frame)}: one error`);
    t.same(errors[0]?.slice(0, 3), [ServerOp.ERROR, 3, code], `${JSON.stringify(frame)}: error ${code} with ref 3`);
    t.equal(transport.closedWith?.code, close, `${JSON.stringify(frame)}: closes ${close}`);
    t.equal(session.user, null);
    t.equal(await metrics.value('halobuzz_errors_total', { code: String(code) }), 1, 'the error is counted');
  }
  const r = setup();
  r.send([ClientOp.HELLO, 1, 1, r.token('alice', 3600, 'revoked-sid')]);
  t.same(r.transport.last?.slice(0, 3), [ServerOp.ERROR, 1, ErrorCode.NOT_AUTHENTICATED]);
  t.same(r.transport.last?.[4], { reason: 'revoked' });
  t.equal(r.transport.closedWith?.code, CloseCode.SESSION_REVOKED);
  // After hello a malformed second hello is only an error: the session stays.
  const ok = setup();
  ok.send([ClientOp.HELLO, 1, 1, ok.token()]);
  ok.send([ClientOp.HELLO, 2, 1]);
  t.equal(ok.transport.closedWith, null, 'an authenticated connection is not closed by a bad hello');
  t.equal(ok.transport.last?.[2], ErrorCode.BAD_ARGUMENTS);
});

t.test('the hello reply tells every limit a client must respect', async (t) => {
  const { send, token, transport } = setup();
  send([ClientOp.HELLO, 1, 1, token()]);
  const limits = (transport.last?.[2] as { limits: Record<string, number> }).limits;
  for (const key of ['maxFrameBytes', 'maxRooms', 'maxChatChars', 'maxDmChars', 'chatPerSecond', 'chatBurst', 'dmPerSecond', 'dmBurst',
    'joinPerSecond', 'joinBurst', 'giftPerSecond', 'giftBurst', 'framesPerSecond', 'framesBurst', 'userChatPerSecond', 'userChatBurst', 'helloTimeoutMs']) {
    t.type(limits[key], 'number', `limits.${key}`);
  }
  t.equal(limits.maxRooms, 2);
  t.equal(limits.chatBurst, 3);
});

t.test('LEAVE then JOIN sent back to back apply in send order against maxRooms', async (t) => {
  const { session, send, token, transport, commands } = setup();
  send([ClientOp.HELLO, 1, 1, token()]);
  send([ClientOp.JOIN, 2, 'r0', Role.VIEWER]);
  send([ClientOp.JOIN, 3, 'r1', Role.VIEWER]);
  session.subscribed('r0', Role.VIEWER);
  session.subscribed('r1', Role.VIEWER);
  send([ClientOp.LEAVE, 4, 'r0']);
  send([ClientOp.JOIN, 5, 'r9', Role.VIEWER]);
  t.notOk(transport.frames.some((f) => f[0] === ServerOp.ERROR), 'no TOO_MANY_ROOMS');
  t.same(commands.filter((c) => c[0] === Cmd.JOIN).map((c) => c[3]), ['r0', 'r1', 'r9']);
  send([ClientOp.JOIN, 6, 'r7', Role.VIEWER]);
  t.same(transport.last?.slice(0, 3), [ServerOp.ERROR, 6, ErrorCode.TOO_MANY_ROOMS], 'the limit still holds');
  session.unsubscribed('r0');
  send([ClientOp.JOIN, 7, 'r0', Role.VIEWER]);
  t.same(transport.last?.slice(0, 3), [ServerOp.ERROR, 7, ErrorCode.TOO_MANY_ROOMS], 'r1 and r9 fill the two places');
});

t.test('chat and DM limits count code points', async (t) => {
  const { send, token, transport, commands, session } = setup();
  send([ClientOp.HELLO, 1, 1, token()]);
  send([ClientOp.JOIN, 2, 'r0', Role.VIEWER]);
  session.subscribed('r0', Role.VIEWER);
  send([ClientOp.CHAT, 3, 'r0', '👋'.repeat(config.limits.maxChatChars)]);
  t.equal(commands.at(-1)?.[0], Cmd.CHAT, `${config.limits.maxChatChars} emoji (twice as many UTF-16 units) are accepted`);
  send([ClientOp.CHAT, 4, 'r0', '👋'.repeat(config.limits.maxChatChars + 1)]);
  t.same(transport.last?.slice(0, 3), [ServerOp.ERROR, 4, ErrorCode.MESSAGE_TOO_LONG]);
  send([ClientOp.DM, 5, 'bob', 'é'.repeat(config.limits.maxDmChars)]);
  t.equal(commands.at(-1)?.[0], Cmd.DM);
});

t.test('moderation: the hello device id reaches the room; members moderate, staff anywhere; chat carries the shadow-mute and staff flags', async (t) => {
  const a = setup(undefined, ['alice']);
  a.send([ClientOp.HELLO, 1, 1, a.token(), { device: 'inst-0001-abcd' }]);
  a.send([ClientOp.MOD, 2, 'room1', 'kick', 'bob']);
  t.same(a.transport.last, [ServerOp.ERROR, 2, ErrorCode.NOT_IN_ROOM, 'join the room before moderating it']);
  a.send([ClientOp.JOIN, 3, 'room1', 0]);
  t.same(a.commands.at(-1), [Cmd.JOIN, 7, 'alice', 'room1', Role.VIEWER, 3, -1, 0, 'inst-0001-abcd', ''], 'the join carries the install id');
  a.session.subscribed('room1', Role.VIEWER);
  a.send([ClientOp.MOD, 4, 'room1', 'mute', 'bob', 60]);
  t.same(a.commands.at(-1), [Cmd.MOD, 7, 'alice', 'room1', 4, 'mute', ['bob', 60], 0]);
  a.send([ClientOp.CHAT, 5, 'room1', 'hi']);
  t.same(a.commands.at(-1), [Cmd.CHAT, 7, 'alice', 'room1', 5, 'hi', 1], 'shadow-muted');
  const staff = setup();
  staff.send([ClientOp.HELLO, 1, 1, staff.token('root', 3600, 'sid-9', ['admin'])]);
  staff.send([ClientOp.MOD, 2, 'elsewhere', 'ban', 'bob', 0, true]);
  t.same(staff.commands.at(-1), [Cmd.MOD, 7, 'root', 'elsewhere', 2, 'ban', ['bob', 0, true], 1], 'staff need not join');
  staff.send([ClientOp.JOIN, 3, 'elsewhere', 0]);
  staff.session.subscribed('elsewhere', Role.VIEWER);
  staff.send([ClientOp.CHAT, 4, 'elsewhere', 'staff here']);
  t.same(staff.commands.at(-1), [Cmd.CHAT, 7, 'root', 'elsewhere', 4, 'staff here', 2]);
});

t.test('regions: the address country, the claimed one only where the override rule allows; joins and games carry it', async (t) => {
  const cases: [string | null, 'when_unknown' | 'always' | 'never' | undefined, string | null][] = [
    ['NP', undefined, 'NP'], [null, undefined, 'US'], ['NP', 'always', 'US'], [null, 'never', null], ['NP', 'never', 'NP'],
  ];
  for (const [ipCountry, regionOverride, expected] of cases) {
    const s = setup(undefined, [], { ipCountry, ...(regionOverride ? { regionOverride } : {}) });
    s.send([ClientOp.HELLO, 1, 1, s.token(), { country: 'US' }]);
    t.equal(s.session.country, expected, `address ${ipCountry}, rule ${regionOverride ?? 'when_unknown'}, claim US`);
    s.send([ClientOp.JOIN, 2, 'room1', 0]);
    t.equal((s.commands.at(-1) as unknown[])[9], expected ?? '', 'the join carries it');
  }
});
