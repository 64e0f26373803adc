/**
 * Turns one decoded client frame into a typed request, or a reply error naming what was wrong.
 * Only shape and types are checked here; business rules (room ownership, membership) belong to actors.
 */
import { ClientOp, CloseCode, ErrorCode, PROTOCOL_VERSION, Role } from './codes';

export type Request =
  | { op: typeof ClientOp.HELLO; ref: number; version: number; token: string; client: ClientInfo }
  | { op: typeof ClientOp.PING; ref: number }
  | { op: typeof ClientOp.JOIN; ref: number; room: string; role: Role }
  | { op: typeof ClientOp.LEAVE; ref: number; room: string }
  | { op: typeof ClientOp.CHAT; ref: number; room: string; text: string }
  | { op: typeof ClientOp.DM; ref: number; to: string; text: string }
  | { op: typeof ClientOp.RESUME; ref: number; room: string; lastSeq: number; role: Role }
  | { op: typeof ClientOp.INBOX_ACK; ref: number; upTo: number }
  | { op: typeof ClientOp.GIFT; ref: number; room: string; giftId: string; count: number; opId: string }
  | { op: typeof ClientOp.ROOM_END; ref: number; room: string }
  | { op: typeof ClientOp.WALLET; ref: number }
  | { op: typeof ClientOp.GAMES; ref: number; room: string }
  | { op: typeof ClientOp.GAME_START | typeof ClientOp.GAME_STOP; ref: number; room: string; game: string }
  | { op: typeof ClientOp.BET; ref: number; room: string; round: string; segment: string; coins: number; betId: string; clientSeed: string }
  | { op: typeof ClientOp.DUEL; ref: number; room: string; action: DuelAction; args: unknown[] }
  | { op: typeof ClientOp.MOD; ref: number; room: string; action: ModAction; args: unknown[] };

export type DuelAction = 'challenge' | 'accept' | 'commit' | 'reveal' | 'forfeit';

/** Room moderation actions (docs/moderation.md § Room roles). */
export const MOD_ACTIONS = ['state', 'appoint', 'dismiss', 'mute', 'unmute', 'kick', 'ban', 'unban', 'delete', 'slow', 'followers', 'filter'] as const;
export type ModAction = (typeof MOD_ACTIONS)[number];
/** Per-room filter strictness (config/moderation.json gives each rule an action per level). */
export const STRICTNESS = ['relaxed', 'standard', 'strict'] as const;
export type Strictness = (typeof STRICTNESS)[number];
/** Longest mute (7 days) and timed ban (365 days), seconds; a ban of 0 seconds is permanent. */
export const MAX_MUTE_SEC = 7 * 86_400;
export const MAX_BAN_SEC = 365 * 86_400;
/** Slow mode: at most one message per this many seconds per viewer (0: off). */
export const MAX_SLOW_SEC = 300;

/** What a client says about itself in hello (all optional): analytics, and the install id for device bans. */
export interface ClientInfo {
  readonly platform?: string;
  readonly app?: string;
  readonly country?: string;
  /** The app's install id (docs/moderation.md § Devices): 8–64 of `A–Z a–z 0–9 _ . : -`. */
  readonly device?: string;
}

const DEVICE = /^[A-Za-z0-9_.:-]{8,64}$/;

function clientInfo(v: unknown): ClientInfo | null {
  if (v === undefined) return {};
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const key of ['platform', 'app', 'country'] as const) {
    if (o[key] === undefined) continue;
    if (typeof o[key] !== 'string' || !/^[A-Za-z0-9_. -]{1,32}$/.test(o[key])) return null;
    out[key] = o[key];
  }
  if (o.device !== undefined) {
    if (typeof o.device !== 'string' || !DEVICE.test(o.device)) return null;
    out.device = o.device;
  }
  return out;
}

export interface RequestError {
  readonly ref: number;
  readonly code: ErrorCode;
  readonly message: string;
  readonly detail?: Record<string, unknown>;
  /** Set for a HELLO that cannot succeed: the connection closes with this code after the error. */
  readonly closeWith?: CloseCode;
}

/** Room and user ids: 1–64 characters of letters, digits and `_ : . -`. */
const ID = /^[A-Za-z0-9_:.-]{1,64}$/;
/** Client-chosen operation ids for money: 8–128 characters (a UUID fits). */
const OP_ID = /^[A-Za-z0-9_:.-]{8,128}$/;
const MAX_REF = 0xffffffff;
/** A bet's id: 8–32 characters (it becomes part of the stake's ledger op id). */
const BET_ID = /^[A-Za-z0-9_.-]{8,32}$/;
/** A player's seed for the fair draw: up to 64 printable ASCII characters. */
const CLIENT_SEED = /^[\x21-\x7e]{0,64}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const SALT = /^[\x21-\x7e]{8,64}$/;

/**
 * Integers: any MessagePack number whose value is whole and in range is accepted, whatever encoding the
 * client's library picked (an encoder that writes 2 as float64 `cb 40 00 …` is understood); 2.5 is not.
 */
function isRef(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_REF;
}
function isId(v: unknown): v is string {
  return typeof v === 'string' && ID.test(v);
}
function isSeq(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
function isRole(v: unknown): v is Role {
  return v === Role.VIEWER || v === Role.HOST;
}

function bad(ref: number, message: string): RequestError {
  return { ref, code: ErrorCode.BAD_ARGUMENTS, message };
}

/**
 * Any failed HELLO ends the connection the same way: one ERROR, then a close whose code says what to do.
 * A version other than the integer 1 closes with UNSUPPORTED_VERSION; anything else wrong closes with
 * AUTH_FAILED (a malformed hello cannot authenticate).
 */
function helloFailure(ref: number, code: ErrorCode, message: string, closeWith: CloseCode, detail?: Record<string, unknown>): RequestError {
  return { ref, code, message, closeWith, ...(detail ? { detail } : {}) };
}

function parseHello(a: unknown[], ref: number, invalidUtf8: boolean): Request | RequestError {
  if (a[2] !== PROTOCOL_VERSION) {
    return helloFailure(ref, ErrorCode.BAD_ARGUMENTS, `hello: unsupported protocol version ${JSON.stringify(a[2] ?? null)}`,
      CloseCode.UNSUPPORTED_VERSION, { supported: [PROTOCOL_VERSION] });
  }
  if (invalidUtf8) return helloFailure(ref, ErrorCode.INVALID_UTF8, 'hello: a string is not valid UTF-8', CloseCode.AUTH_FAILED);
  if (typeof a[3] !== 'string' || a[3].length === 0 || a[3].length > 8192) {
    return helloFailure(ref, ErrorCode.BAD_ARGUMENTS, 'hello: token must be a non-empty string', CloseCode.AUTH_FAILED);
  }
  const client = clientInfo(a[4]);
  if (!client) {
    return helloFailure(ref, ErrorCode.BAD_ARGUMENTS, 'hello: client info must be a map of platform, app, country (short strings) and device (an install id)', CloseCode.AUTH_FAILED);
  }
  return { op: ClientOp.HELLO, ref, version: PROTOCOL_VERSION, token: a[3], client };
}

/**
 * Parses one decoded frame. The ref is echoed whenever it is a valid ref, even when the op is not: only a
 * frame that is not an array, or whose ref is unreadable, is answered with ref 0. `invalidUtf8` comes from
 * the decoder: a frame holding any string that is not valid UTF-8 is refused with INVALID_UTF8.
 */
export function parseRequest(frame: unknown, invalidUtf8 = false): Request | RequestError {
  if (!Array.isArray(frame) || frame.length < 2) {
    return { ref: 0, code: ErrorCode.BAD_FRAME, message: 'frame must be an array [op, ref, ...args]' };
  }
  const [op, ref] = frame as [unknown, unknown];
  const hello = op === ClientOp.HELLO;
  if (!isRef(ref)) {
    const error: RequestError = { ref: 0, code: ErrorCode.BAD_FRAME, message: 'ref must be an integer 1..2^32-1' };
    return hello ? { ...error, closeWith: CloseCode.AUTH_FAILED } : error;
  }
  if (typeof op !== 'number' || !Number.isInteger(op)) return { ref, code: ErrorCode.BAD_FRAME, message: 'op must be an integer' };
  const a = frame;
  if (hello) return parseHello(a, ref, invalidUtf8);
  if (invalidUtf8) return { ref, code: ErrorCode.INVALID_UTF8, message: 'a string in this request is not valid UTF-8' };
  switch (op) {
    case ClientOp.PING:
      return { op: ClientOp.PING, ref };
    case ClientOp.JOIN:
      if (!isId(a[2])) return bad(ref, 'join: room must be an id');
      if (a[3] !== undefined && !isRole(a[3])) return bad(ref, 'join: role must be 0 (viewer) or 1 (host)');
      return { op, ref, room: a[2], role: (a[3] as Role | undefined) ?? Role.VIEWER };
    case ClientOp.LEAVE:
      if (!isId(a[2])) return bad(ref, 'leave: room must be an id');
      return { op, ref, room: a[2] };
    case ClientOp.CHAT:
      if (!isId(a[2])) return bad(ref, 'chat: room must be an id');
      if (typeof a[3] !== 'string' || a[3].trim().length === 0) return bad(ref, 'chat: text must be a non-empty string');
      return { op, ref, room: a[2], text: a[3] };
    case ClientOp.DM:
      if (!isId(a[2])) return bad(ref, 'dm: recipient must be a user id');
      if (typeof a[3] !== 'string' || a[3].trim().length === 0) return bad(ref, 'dm: text must be a non-empty string');
      return { op, ref, to: a[2], text: a[3] };
    case ClientOp.RESUME:
      if (!isId(a[2])) return bad(ref, 'resume: room must be an id');
      if (!isSeq(a[3])) return bad(ref, 'resume: lastSeq must be a non-negative integer');
      if (a[4] !== undefined && !isRole(a[4])) return bad(ref, 'resume: role must be 0 (viewer) or 1 (host)');
      return { op, ref, room: a[2], lastSeq: a[3], role: (a[4] as Role | undefined) ?? Role.VIEWER };
    case ClientOp.INBOX_ACK:
      if (!isSeq(a[2]) || a[2] < 1) return bad(ref, 'inbox ack: upTo must be a positive integer');
      return { op, ref, upTo: a[2] };
    case ClientOp.GIFT:
      if (!isId(a[2])) return bad(ref, 'gift: room must be an id');
      if (!isId(a[3])) return bad(ref, 'gift: giftId must be an id');
      if (typeof a[4] !== 'number' || !Number.isSafeInteger(a[4]) || a[4] < 1 || a[4] > 9999) {
        return { ref, code: ErrorCode.INVALID_AMOUNT, message: 'gift: count must be a whole number from 1 to 9999' };
      }
      if (typeof a[5] !== 'string' || !OP_ID.test(a[5])) return bad(ref, 'gift: opId must be 8–128 characters of letters, digits and _ : . -');
      return { op, ref, room: a[2], giftId: a[3], count: a[4], opId: a[5] };
    case ClientOp.ROOM_END:
      if (!isId(a[2])) return bad(ref, 'room end: room must be an id');
      return { op, ref, room: a[2] };
    case ClientOp.WALLET:
      return { op, ref };
    case ClientOp.GAMES:
      if (!isId(a[2])) return bad(ref, 'games: room must be an id');
      return { op, ref, room: a[2] };
    case ClientOp.GAME_START:
    case ClientOp.GAME_STOP:
      if (!isId(a[2])) return bad(ref, 'game start/stop: room must be an id');
      if (!isId(a[3])) return bad(ref, 'game start/stop: game must be a game name');
      return { op, ref, room: a[2], game: a[3] };
    case ClientOp.BET:
      return parseBet(a, ref);
    case ClientOp.DUEL:
      return parseDuel(a, ref);
    case ClientOp.MOD:
      return parseMod(a, ref);
    default:
      return { ref, code: ErrorCode.UNKNOWN_OP, message: `unknown op ${op}` };
  }
}

function isStake(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
}

function parseBet(a: unknown[], ref: number): Request | RequestError {
  if (!isId(a[2])) return bad(ref, 'bet: room must be an id');
  if (!isId(a[3])) return bad(ref, 'bet: round must be a round id');
  if (!isId(a[4])) return bad(ref, 'bet: segment must be a segment id');
  if (!isStake(a[5])) return { ref, code: ErrorCode.INVALID_AMOUNT, message: 'bet: coins must be a positive whole number' };
  if (typeof a[6] !== 'string' || !BET_ID.test(a[6])) return bad(ref, 'bet: betId must be 8–32 characters of letters, digits and _ . -');
  if (a[7] !== undefined && (typeof a[7] !== 'string' || !CLIENT_SEED.test(a[7]))) return bad(ref, 'bet: clientSeed must be up to 64 printable ASCII characters');
  return { op: ClientOp.BET, ref, room: a[2], round: a[3], segment: a[4], coins: a[5], betId: a[6], clientSeed: (a[7] as string | undefined) ?? '' };
}

/** [16, ref, room, action, duel, ...]: see docs/protocol.md § Games for each action's arguments. */
function parseDuel(a: unknown[], ref: number): Request | RequestError {
  if (!isId(a[2])) return bad(ref, 'duel: room must be an id');
  const action = a[3];
  if (!isId(a[4])) return bad(ref, 'duel: the duel id must be an id');
  const duel = a[4];
  const done = (args: unknown[]): Request => ({ op: ClientOp.DUEL, ref, room: a[2] as string, action: action as DuelAction, args: [duel, ...args] });
  switch (action) {
    case 'challenge':
      if (!BET_ID.test(duel)) return bad(ref, 'duel challenge: your duel id must be 8–32 characters of letters, digits and _ . -');
      if (!isStake(a[5])) return { ref, code: ErrorCode.INVALID_AMOUNT, message: 'duel challenge: stake must be a positive whole number' };
      if (a[6] !== '' && a[6] !== '@bot' && !isId(a[6])) return bad(ref, 'duel challenge: opponent must be a user id, "@bot" or "" (anyone)');
      if (a[7] !== undefined && (typeof a[7] !== 'string' || !CLIENT_SEED.test(a[7]))) return bad(ref, 'duel challenge: clientSeed must be up to 64 printable ASCII characters');
      return done([a[5], a[6], (a[7] as string | undefined) ?? '']);
    case 'accept':
    case 'forfeit':
      return done([]);
    case 'commit':
      if (typeof a[5] !== 'string' || !HEX64.test(a[5])) return bad(ref, 'duel commit: the commitment must be 64 lowercase hex characters (SHA-256 of "move:salt")');
      return done([a[5]]);
    case 'reveal':
      if (typeof a[5] !== 'string' || !/^(rock|paper|scissors)$/.test(a[5])) return bad(ref, 'duel reveal: move must be rock, paper or scissors');
      if (typeof a[6] !== 'string' || !SALT.test(a[6])) return bad(ref, 'duel reveal: salt must be 8–64 printable ASCII characters');
      return done([a[5], a[6]]);
    default:
      return bad(ref, 'duel: action must be challenge, accept, commit, reveal or forfeit');
  }
}

function isWholeIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max;
}

/** [17, ref, room, action, …]: see docs/protocol.md § Moderation for each action's arguments. */
function parseMod(a: unknown[], ref: number): Request | RequestError {
  if (!isId(a[2])) return bad(ref, 'mod: room must be an id');
  const action = a[3];
  if (typeof action !== 'string' || !(MOD_ACTIONS as readonly string[]).includes(action)) return bad(ref, `mod: action must be one of ${MOD_ACTIONS.join(', ')}`);
  const done = (args: unknown[]): Request => ({ op: ClientOp.MOD, ref, room: a[2] as string, action: action as ModAction, args });
  switch (action as ModAction) {
    case 'state':
      return done([]);
    case 'appoint':
    case 'dismiss':
    case 'unmute':
    case 'kick':
    case 'unban':
      if (!isId(a[4])) return bad(ref, `mod ${action}: user must be a user id`);
      return done([a[4]]);
    case 'mute':
      if (!isId(a[4])) return bad(ref, 'mod mute: user must be a user id');
      if (!isWholeIn(a[5], 1, MAX_MUTE_SEC)) return bad(ref, `mod mute: seconds must be a whole number from 1 to ${MAX_MUTE_SEC}`);
      return done([a[4], a[5]]);
    case 'ban':
      if (!isId(a[4])) return bad(ref, 'mod ban: user must be a user id');
      if (!isWholeIn(a[5], 0, MAX_BAN_SEC)) return bad(ref, `mod ban: seconds must be a whole number from 0 (permanent) to ${MAX_BAN_SEC}`);
      if (a[6] !== undefined && typeof a[6] !== 'boolean') return bad(ref, 'mod ban: devices must be true or false');
      return done([a[4], a[5], a[6] === true]);
    case 'delete':
      if (!isWholeIn(a[4], 1, Number.MAX_SAFE_INTEGER)) return bad(ref, 'mod delete: seq must be a positive integer');
      return done([a[4]]);
    case 'slow':
      if (!isWholeIn(a[4], 0, MAX_SLOW_SEC)) return bad(ref, `mod slow: seconds must be a whole number from 0 (off) to ${MAX_SLOW_SEC}`);
      return done([a[4]]);
    case 'followers':
      if (typeof a[4] !== 'boolean') return bad(ref, 'mod followers: on must be true or false');
      return done([a[4]]);
    case 'filter':
      if (typeof a[4] !== 'string' || !(STRICTNESS as readonly string[]).includes(a[4])) return bad(ref, `mod filter: level must be one of ${STRICTNESS.join(', ')}`);
      return done([a[4]]);
  }
}

export function isRequestError(r: Request | RequestError): r is RequestError {
  return (r as RequestError).code !== undefined;
}
