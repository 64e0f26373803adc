import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { codePointLength, decode, decodeClientFrame, encode, dmFrame, errorFrame, replyFrame, roomChatFrame, roomGiftFrame, roomLeaderboardFrame, roomLiveFrame, roomPresenceFrame, roomResyncFrame, roomGameFrame, roomModFrame, decodeServerFrame, notificationFrame } from './codec';
import { ClientOp, CloseCode, ErrorCode, Role } from './codes';
import { isRequestError, parseRequest } from './requests';

interface Vector { value: unknown; hex: string }
const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'protocol-vectors.json'), 'utf8')) as {
  client: Record<string, Vector>;
  server: Record<string, Vector>;
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

t.test('every golden vector encodes to its exact bytes and decodes back', async (t) => {
  for (const [name, v] of [...Object.entries(vectors.client), ...Object.entries(vectors.server)]) {
    t.equal(hex(encode(v.value)), v.hex, `${name} encodes`);
    t.same(decode(Buffer.from(v.hex, 'hex')), v.value, `${name} decodes`);
  }
});

t.test('server frame builders produce the golden bytes', async (t) => {
  const s = vectors.server;
  t.equal(hex(replyFrame(1, { seq: 1 })), s.reply!.hex);
  t.equal(hex(errorFrame(3, ErrorCode.RATE_LIMITED, 'rate limit exceeded', { retryAfterMs: 200 })), s.error!.hex);
  t.equal(hex(roomChatFrame('room1', 1, 1700000000000, 'alice', 'hi')), s.room_chat!.hex);
  t.equal(hex(roomPresenceFrame('room1', 2)), s.room_presence!.hex);
  t.equal(hex(roomResyncFrame('room1', 300)), s.room_resync!.hex);
  t.equal(hex(dmFrame(1, 1700000000000, 'bob', 'yo')), s.dm!.hex);
  t.equal(hex(roomGiftFrame('room1', 7, 1700000000000, 'fan', 'rose', 3, 30, 30)), s.room_gift!.hex);
  t.equal(hex(roomLiveFrame('room1', 1, 1700000000000, true, 'room1.1700000000000')), s.room_live!.hex);
  t.equal(hex(roomLeaderboardFrame('room1', [['fan', 30]])), s.room_leaderboard!.hex);
  t.equal(hex(roomGameFrame('room1', 9, 1700000000000, 'wheel', 'w1', 'locked', { bets: 2 })), s.room_game!.hex);
  t.equal(hex(notificationFrame({ id: 'n1', kind: 'dm', title: 'bob', body: 'hi', data: {}, createdAt: 1 })), s.notification!.hex);
  t.equal(hex(roomModFrame('room1', 42, 1700000000000, 'mod1', 'mute', { user: 'troll', until: 1700000600000 })), s.room_mod!.hex);
  t.equal(hex(roomModFrame('room1', 41, 1700000000000, 'mod1', 'removed', { user: 'troll' })), s.room_mod_removed!.hex);
  t.equal(hex(errorFrame(5, ErrorCode.BANNED, 'you are banned from this room', { until: 0 })), s.error_banned!.hex);
});

t.test('golden client frames parse into typed requests', async (t) => {
  const c = vectors.client;
  const parse = (name: string) => parseRequest(decode(Buffer.from(c[name]!.hex, 'hex')));
  t.same(parse('hello'), { op: ClientOp.HELLO, ref: 1, version: 1, token: 'tok', client: {} });
  t.same(parse('hello_client'), { op: ClientOp.HELLO, ref: 1, version: 1, token: 'tok', client: { platform: 'ios', app: '3.2', country: 'NP' } });
  t.same(parse('ping'), { op: ClientOp.PING, ref: 7 });
  t.same(parse('join'), { op: ClientOp.JOIN, ref: 2, room: 'room1', role: Role.VIEWER });
  t.same(parse('leave'), { op: ClientOp.LEAVE, ref: 8, room: 'room1' });
  t.same(parse('chat'), { op: ClientOp.CHAT, ref: 3, room: 'room1', text: 'hi' });
  t.same(parse('dm'), { op: ClientOp.DM, ref: 4, to: 'bob', text: 'yo' });
  t.same(parse('resume'), { op: ClientOp.RESUME, ref: 5, room: 'room1', lastSeq: 42, role: Role.VIEWER });
  t.same(parse('inbox_ack'), { op: ClientOp.INBOX_ACK, ref: 6, upTo: 3 });
  t.same(parse('gift'), { op: ClientOp.GIFT, ref: 12, room: 'room1', giftId: 'rose', count: 3, opId: 'op-123456' });
  t.same(parse('room_end'), { op: ClientOp.ROOM_END, ref: 13, room: 'room1' });
  t.same(parse('wallet'), { op: ClientOp.WALLET, ref: 14 });
  t.same(parse('games'), { op: ClientOp.GAMES, ref: 17, room: 'room1' });
  t.same(parse('game_start'), { op: ClientOp.GAME_START, ref: 18, room: 'room1', game: 'wheel' });
  t.same(parse('game_stop'), { op: ClientOp.GAME_STOP, ref: 19, room: 'room1', game: 'wheel' });
  t.same(parse('bet'), { op: ClientOp.BET, ref: 20, room: 'room1', round: 'w1', segment: 'x5', coins: 10, betId: 'bet-0001', clientSeed: 's' });
  t.same(parse('duel_challenge'), { op: ClientOp.DUEL, ref: 22, room: 'room1', action: 'challenge', args: ['my-duel-01', 50, '@bot', 's'] });
  t.same(parse('duel_commit'), { op: ClientOp.DUEL, ref: 23, room: 'room1', action: 'commit', args: ['d1', 'ab'.repeat(32)] });
  t.same(parse('duel_reveal'), { op: ClientOp.DUEL, ref: 21, room: 'room1', action: 'reveal', args: ['d1', 'rock', 'salt-123'] });
  t.same(parse('hello_device'), { op: ClientOp.HELLO, ref: 1, version: 1, token: 'tok', client: { platform: 'android', device: 'inst-7f3a9c21' } });
  t.same(parse('mod_mute'), { op: ClientOp.MOD, ref: 30, room: 'room1', action: 'mute', args: ['troll', 600] });
  t.same(parse('mod_ban'), { op: ClientOp.MOD, ref: 31, room: 'room1', action: 'ban', args: ['troll', 0, true] });
  t.same(parse('mod_delete'), { op: ClientOp.MOD, ref: 32, room: 'room1', action: 'delete', args: [41] });
  t.same(parse('mod_slow'), { op: ClientOp.MOD, ref: 33, room: 'room1', action: 'slow', args: [10] });
  t.same(parse('mod_followers'), { op: ClientOp.MOD, ref: 34, room: 'room1', action: 'followers', args: [true] });
});

t.test('moderation requests with bad arguments are refused, naming what was wrong', async (t) => {
  const message = (frame: unknown[]) => {
    const r = parseRequest(frame);
    return 'message' in r && 'code' in r ? `${r.code} ${r.message}` : 'ok';
  };
  t.match(message([17, 1, 'r', 'nuke', 'x']), /^102 mod: action must be one of state, appoint/);
  t.match(message([17, 1, 'r', 'mute', 'x', 0]), /^102 mod mute: seconds/);
  t.match(message([17, 1, 'r', 'mute', 'x', 7 * 86_400 + 1]), /^102 mod mute: seconds/);
  t.match(message([17, 1, 'r', 'mute', 'x', 2.5]), /^102 mod mute: seconds/);
  t.match(message([17, 1, 'r', 'ban', 'x', 10, 'yes']), /^102 mod ban: devices/);
  t.match(message([17, 1, 'r', 'ban', 'x']), /^102 mod ban: seconds/);
  t.match(message([17, 1, 'r', 'kick', { user: 'x' }]), /^102 mod kick: user/);
  t.match(message([17, 1, 'r', 'delete', 0]), /^102 mod delete: seq/);
  t.match(message([17, 1, 'r', 'slow', 301]), /^102 mod slow/);
  t.match(message([17, 1, 'r', 'followers', 1]), /^102 mod followers/);
  t.match(message([17, 1, 'r', 'filter', 'max']), /^102 mod filter: level must be one of relaxed, standard, strict/);
  t.equal(message([17, 1, 'r', 'ban', 'x', 0]), 'ok', 'devices is optional');
  t.match(message([1, 1, 1, 'tok', { device: 'short' }]), /^102 hello: client info/, 'a device id shorter than 8 characters fails the hello');
});

t.test('game requests with bad arguments are refused with their codes', async (t) => {
  const code = (frame: unknown[]) => {
    const r = parseRequest(frame);
    return isRequestError(r) ? r.code : -1;
  };
  t.equal(code([ClientOp.BET, 1, 'room1', 'w1', 'x5', 0, 'bet-0001']), ErrorCode.INVALID_AMOUNT, 'a zero stake');
  t.equal(code([ClientOp.BET, 1, 'room1', 'w1', 'x5', '10', 'bet-0001']), ErrorCode.INVALID_AMOUNT, 'a stake as a string');
  t.equal(code([ClientOp.BET, 1, 'room1', 'w1', 'x5', 10, 'short']), ErrorCode.BAD_ARGUMENTS, 'a bet id under 8 characters');
  t.equal(code([ClientOp.BET, 1, 'room1', 'w1', 'x5', 10, 'bet-0001', 'x'.repeat(65)]), ErrorCode.BAD_ARGUMENTS, 'a client seed over 64 characters');
  t.equal(code([ClientOp.DUEL, 1, 'room1', 'dance', 'd1']), ErrorCode.BAD_ARGUMENTS, 'an unknown duel action');
  t.equal(code([ClientOp.DUEL, 1, 'room1', 'commit', 'd1', 'ROCK']), ErrorCode.BAD_ARGUMENTS, 'a commitment that is not a SHA-256');
  t.equal(code([ClientOp.DUEL, 1, 'room1', 'reveal', 'd1', 'lizard', 'salt-123']), ErrorCode.BAD_ARGUMENTS, 'a move that is not rock, paper or scissors');
  t.equal(code([ClientOp.DUEL, 1, 'room1', 'challenge', 'my-duel-01', -5, '']), ErrorCode.INVALID_AMOUNT, 'a negative duel stake');
});

t.test('malformed and mistyped frames map to their error codes', async (t) => {
  const cases: [unknown, number, number][] = [
    [42, 0, ErrorCode.BAD_FRAME],
    [[], 0, ErrorCode.BAD_FRAME],
    [[1], 0, ErrorCode.BAD_FRAME],
    [['x', 1], 1, ErrorCode.BAD_FRAME],
    [['2', 5], 5, ErrorCode.BAD_FRAME],
    [[2.5, 5], 5, ErrorCode.BAD_FRAME],
    [[5, 6, 'room', ' \t\u3000 '], 6, ErrorCode.BAD_ARGUMENTS],
    [[3, 0, 'r'], 0, ErrorCode.BAD_FRAME],
    [[3, -1, 'r'], 0, ErrorCode.BAD_FRAME],
    [[3, 1.5, 'r'], 0, ErrorCode.BAD_FRAME],
    [[99, 4], 4, ErrorCode.UNKNOWN_OP],
    [[3, 5, 'bad room!'], 5, ErrorCode.BAD_ARGUMENTS],
    [[3, 5, 'x'.repeat(65)], 5, ErrorCode.BAD_ARGUMENTS],
    [[3, 5, 'room', 7], 5, ErrorCode.BAD_ARGUMENTS],
    [[5, 6, 'room', ''], 6, ErrorCode.BAD_ARGUMENTS],
    [[5, 6, 'room', 12], 6, ErrorCode.BAD_ARGUMENTS],
    [[6, 7, { $gt: '' }, 'hi'], 7, ErrorCode.BAD_ARGUMENTS],
    [[7, 8, 'room', -1], 8, ErrorCode.BAD_ARGUMENTS],
    [[7, 8, 'room', 2 ** 60], 8, ErrorCode.BAD_ARGUMENTS],
    [[8, 9, 0], 9, ErrorCode.BAD_ARGUMENTS],
    [[1, 10, '1', 'tok'], 10, ErrorCode.BAD_ARGUMENTS],
    [[1, 10, 1, ''], 10, ErrorCode.BAD_ARGUMENTS],
    [[1, 10, 1, 'tok', { platform: { $gt: '' } }], 10, ErrorCode.BAD_ARGUMENTS],
    [[1, 10, 1, 'tok', 'ios'], 10, ErrorCode.BAD_ARGUMENTS],
    [[9, 11, 'room', 'rose', -1, 'op-123456'], 11, ErrorCode.INVALID_AMOUNT],
    [[9, 11, 'room', 'rose', 1.5, 'op-123456'], 11, ErrorCode.INVALID_AMOUNT],
    [[9, 11, 'room', 'rose', 0, 'op-123456'], 11, ErrorCode.INVALID_AMOUNT],
    [[9, 11, 'room', 'rose', '5', 'op-123456'], 11, ErrorCode.INVALID_AMOUNT],
    [[9, 11, 'room', 'rose', 1, 'short'], 11, ErrorCode.BAD_ARGUMENTS],
    [[9, 11, 'room', { $ne: 1 }, 1, 'op-123456'], 11, ErrorCode.BAD_ARGUMENTS],
  ];
  for (const [frame, ref, code] of cases) {
    const r = parseRequest(frame);
    t.ok(isRequestError(r), `${JSON.stringify(frame)} is rejected`);
    if (isRequestError(r)) {
      t.equal(r.code, code, `${JSON.stringify(frame)} → ${code}`);
      t.equal(r.ref, ref, `${JSON.stringify(frame)} keeps ref ${ref}`);
    }
  }
});

t.test('undecodable bytes throw instead of producing a value', async (t) => {
  for (const bad of ['c1', '93', '9301', '01ff', 'dd7fffffff']) {
    t.throws(() => decode(Buffer.from(bad, 'hex')), `${bad} is rejected`);
  }
});

/** Hand-written MessagePack: a fixarray holding fixints and raw str8 payloads (bytes as given). */
function frameWithRawStrings(items: (number | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from([0x90 | items.length])];
  for (const item of items) {
    parts.push(typeof item === 'number' ? Buffer.from([item]) : Buffer.concat([Buffer.from([0xd9, item.length]), item]));
  }
  return Buffer.concat(parts);
}

t.test('strings that are not valid UTF-8 are flagged and refused with INVALID_UTF8, ref kept', async (t) => {
  const room = Buffer.from('room1');
  for (const bad of ['eda080', 'fffefd', 'c0af', 'e282', 'f4908080']) {
    const bytes = frameWithRawStrings([ClientOp.CHAT, 9, room, Buffer.concat([Buffer.from('hi '), Buffer.from(bad, 'hex')])]);
    const d = decodeClientFrame(bytes);
    t.equal(d.invalidUtf8, true, `${bad} in a chat text is flagged`);
    const r = parseRequest(d.value, d.invalidUtf8);
    t.ok(isRequestError(r) && r.code === ErrorCode.INVALID_UTF8 && r.ref === 9, `${bad}: refused with INVALID_UTF8, ref 9`);
  }
  const badRoom = decodeClientFrame(frameWithRawStrings([ClientOp.JOIN, 3, Buffer.from('ed a0 80'.replace(/ /g, ''), 'hex')]));
  t.equal(badRoom.invalidUtf8, true, 'a room id is checked too');
  // Map keys go through the same path: a hello client map with a bad key.
  const key = Buffer.from([0x81, 0xa2, 0xff, 0xfe, 0xa1, 0x78]);
  const hello = Buffer.concat([Buffer.from([0x95, 0x01, 0x01, 0x01, 0xa3]), Buffer.from('tok'), key]);
  const h = decodeClientFrame(hello);
  t.equal(h.invalidUtf8, true, 'map keys are checked');
  const hr = parseRequest(h.value, h.invalidUtf8);
  t.ok(isRequestError(hr) && hr.code === ErrorCode.INVALID_UTF8 && hr.closeWith === CloseCode.AUTH_FAILED, 'a hello with bad UTF-8 fails and closes');
  const fine = decodeClientFrame(encode([ClientOp.CHAT, 4, 'room1', 'héllo 👋 \ufffd']));
  t.equal(fine.invalidUtf8, false, 'valid multi-byte text (including a real U+FFFD) passes');
  t.equal(decodeClientFrame(encode([ClientOp.PING, 5])).invalidUtf8, false, 'the flag resets between frames');
});

t.test('every failed HELLO names the close that follows it', async (t) => {
  const cases: [unknown[], number, number, number][] = [
    [[1, 1, 1], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[1, 1, 1, null], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[1, 1, 1, 7], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[1, 1, 1, ''], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[1, 1, 1, 'tok', 'ios'], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.AUTH_FAILED],
    [[1, 1, '1', 'tok'], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.UNSUPPORTED_VERSION],
    [[1, 1, 2, 'tok'], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.UNSUPPORTED_VERSION],
    [[1, 1], 1, ErrorCode.BAD_ARGUMENTS, CloseCode.UNSUPPORTED_VERSION],
    [[1, 'x', 1, 'tok'], 0, ErrorCode.BAD_FRAME, CloseCode.AUTH_FAILED],
  ];
  for (const [frame, ref, code, close] of cases) {
    const r = parseRequest(frame);
    t.ok(isRequestError(r), `${JSON.stringify(frame)} fails`);
    if (!isRequestError(r)) continue;
    t.same([r.ref, r.code, r.closeWith], [ref, code, close], `${JSON.stringify(frame)} → error ${code}, close ${close}`);
  }
  const version = parseRequest([1, 1, 2, 'tok']);
  t.same(isRequestError(version) && version.detail, { supported: [1] }, 'an unsupported version says which are');
});

t.test('integers may arrive in any MessagePack number encoding when the value is whole', async (t) => {
  const float64Ping = Buffer.from('92cb4000000000000000cb4014000000000000', 'hex'); // [2.0, 5.0]
  t.same(parseRequest(decode(float64Ping)), { op: ClientOp.PING, ref: 5 });
  t.same(parseRequest(decode(Buffer.from('92cd0002cf0000000000000005', 'hex'))), { op: ClientOp.PING, ref: 5 }, 'uint16 op, uint64 ref');
});

t.test('text limits count Unicode code points, not UTF-16 units', async (t) => {
  t.equal(codePointLength('abc'), 3);
  t.equal(codePointLength('👋'.repeat(251)), 251, 'an emoji outside the BMP counts once');
  t.equal(codePointLength('e\u0301'), 2, 'combining marks count on their own');
  t.equal(codePointLength('नमस्ते'), 6, 'Devanagari: one per code point');
});

t.test('server frames larger than any request decode with the server-frame decoder', async (t) => {
  const top = Array.from({ length: 100 }, (_, i) => [`fan${i}`, 100 - i] as [string, number]);
  const board = roomLeaderboardFrame('room1', top);
  t.throws(() => decode(board), 'the request decoder bounds arrays at 64');
  t.same(decodeServerFrame(board), [85, 'room1', top], 'a 100-entry leaderboard (HALOBUZZ_LEADERBOARD_SIZE allows 100)');
  const payouts = Array.from({ length: 100 }, (_, i) => [`p${i}`, i + 1]);
  t.same((decodeServerFrame(roomGameFrame('room1', 5, 1, 'wheel', 'w1', 'settled', { payouts })) as unknown[])[7], { payouts }, 'a settled round listing 100 payouts');
});
