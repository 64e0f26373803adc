/**
 * Protocol v1 constants shared by the server, the SDK and the benches. Dependency-free on purpose.
 * docs/protocol.md is the spec; test/error-docs.test.ts ties every constant here to that document.
 */

export const PROTOCOL_VERSION = 1 as const;

/** Client → server requests. Frame: [op, ref, ...args]. */
export const ClientOp = {
  HELLO: 1,
  PING: 2,
  JOIN: 3,
  LEAVE: 4,
  CHAT: 5,
  DM: 6,
  RESUME: 7,
  INBOX_ACK: 8,
  GIFT: 9,
  ROOM_END: 10,
  WALLET: 11,
  /** Games of a room: what runs and how to play (docs/games.md). */
  GAMES: 12,
  /** The host starts a game in its room (the wheel). */
  GAME_START: 13,
  /** The host stops a game after its current round. */
  GAME_STOP: 14,
  /** A stake on a wheel segment. */
  BET: 15,
  /** A duel action: challenge, accept, commit, reveal, forfeit. */
  DUEL: 16,
  /** A room moderation action by the host, a moderator or staff (docs/moderation.md). */
  MOD: 17,
} as const;
export type ClientOp = (typeof ClientOp)[keyof typeof ClientOp];

/** Server → client frames. Replies carry the request's ref; pushes do not. */
export const ServerOp = {
  REPLY: 64,
  ERROR: 65,
  ROOM_CHAT: 80,
  ROOM_PRESENCE: 81,
  ROOM_RESYNC: 82,
  ROOM_GIFT: 83,
  ROOM_LIVE: 84,
  ROOM_LEADERBOARD: 85,
  /** A game's state changed (sequenced: in the room's history, replayed on resume). */
  ROOM_GAME: 86,
  /** A moderation action in the room (sequenced): mute, kick, ban, a deleted message, slow mode… */
  ROOM_MOD: 87,
  DM: 90,
  /** A notification for you (docs/notifications.md), while you are connected. Not sequenced. */
  NOTIFICATION: 91,
} as const;
export type ServerOp = (typeof ServerOp)[keyof typeof ServerOp];

export const Role = { VIEWER: 0, HOST: 1 } as const;
export type Role = (typeof Role)[keyof typeof Role];

/**
 * Reply errors (100–999): the request failed, the connection stays open.
 * 1xx: protocol and session, 2xx: money (gifts, ledger), 3xx: games, 4xx: moderation.
 */
export const ErrorCode = {
  BAD_FRAME: 100,
  UNKNOWN_OP: 101,
  BAD_ARGUMENTS: 102,
  TEXT_FRAME: 103,
  INVALID_UTF8: 104,
  NOT_AUTHENTICATED: 110,
  ALREADY_AUTHENTICATED: 111,
  RATE_LIMITED: 120,
  TOO_MANY_ROOMS: 121,
  NOT_IN_ROOM: 122,
  NOT_ROOM_OWNER: 123,
  MESSAGE_TOO_LONG: 124,
  INVALID_RECIPIENT: 125,
  INBOX_FULL: 126,
  REGION_RESTRICTED: 127,
  OVERLOADED: 130,
  INTERNAL: 131,
  SHUTTING_DOWN: 132,
  INSUFFICIENT_FUNDS: 200,
  UNKNOWN_GIFT: 201,
  ROOM_NOT_LIVE: 202,
  INVALID_AMOUNT: 203,
  OP_ID_REUSED: 204,
  CANNOT_GIFT_SELF: 205,
  OP_IN_PROGRESS: 206,
  LEDGER_UNAVAILABLE: 207,
  ACCOUNT_IN_DEBT: 208,
  GAMES_DISABLED: 300,
  UNKNOWN_GAME: 301,
  ROUND_CLOSED: 302,
  UNKNOWN_SEGMENT: 303,
  BAD_STAKE: 304,
  UNKNOWN_ROUND: 305,
  GAME_RUNNING: 306,
  UNKNOWN_DUEL: 307,
  DUEL_STATE: 308,
  NOT_A_PLAYER: 309,
  BAD_REVEAL: 310,
  PLAY_FROZEN: 311,
  SELF_EXCLUDED: 312,
  DAILY_STAKE_LIMIT: 313,
  COUNTRY_BLOCKED: 314,
  ACCOUNT_TOO_NEW: 315,
  NOT_MODERATOR: 400,
  BANNED: 401,
  MUTED: 402,
  SLOW_MODE: 403,
  FOLLOWERS_ONLY: 404,
  MESSAGE_BLOCKED: 405,
  CANNOT_MODERATE: 406,
  UNKNOWN_MESSAGE: 407,
  SPAM: 408,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * Close codes (4000–4999, plus the standard ones uWS itself uses): the connection ends.
 * Clients reconnect after every code except AUTH_FAILED, UNSUPPORTED_VERSION and SESSION_REVOKED.
 */
export const CloseCode = {
  NORMAL: 1000,
  /** (ws transport) a text frame that is not UTF-8. */
  INVALID_PAYLOAD: 1007,
  /** A frame over the max frame size. */
  MESSAGE_TOO_BIG: 1009,
  AUTH_FAILED: 4001,
  HELLO_TIMEOUT: 4002,
  UNSUPPORTED_VERSION: 4003,
  TOKEN_EXPIRED: 4004,
  SESSION_REVOKED: 4005,
  POLICY_VIOLATION: 4008,
  SLOW_CONSUMER: 4009,
  SERVER_SHUTDOWN: 4012,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Close codes after which a client must not reconnect with the same credentials. */
export const TERMINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.AUTH_FAILED,
  CloseCode.UNSUPPORTED_VERSION,
  CloseCode.SESSION_REVOKED,
]);

const errorNames = new Map<number, string>(Object.entries(ErrorCode).map(([k, v]) => [v, k]));
const closeNames = new Map<number, string>(Object.entries(CloseCode).map(([k, v]) => [v, k]));

export function errorName(code: number): string {
  return errorNames.get(code) ?? `E${code}`;
}

export function closeName(code: number): string {
  return closeNames.get(code) ?? `C${code}`;
}
