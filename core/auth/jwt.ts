/**
 * HS256 JSON Web Tokens, verified synchronously so the socket core never awaits during hello.
 * Only HS256 is accepted: a token whose header names any other algorithm (including "none") is rejected
 * before its signature is looked at.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

export interface AccessClaims {
  /** User id. */
  readonly sub: string;
  /** Session id: revoking it closes every socket opened with its tokens. */
  readonly sid: string;
  readonly iss: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly roles?: readonly string[];
  /** When the account was created (seconds since the epoch): games check a minimum account age. */
  readonly since?: number;
}

export type VerifyFailure = 'malformed' | 'bad_algorithm' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'wrong_issuer' | 'wrong_audience' | 'bad_claims';

export type VerifyResult = { ok: true; claims: AccessClaims } | { ok: false; reason: VerifyFailure };

export interface VerifyOptions {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  /** Seconds since the epoch; injectable for tests. */
  readonly now?: number;
  /** Clock skew tolerated on exp/nbf, seconds. */
  readonly leewaySec?: number;
}

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const ID = /^[A-Za-z0-9_:.-]{1,64}$/;

function mac(secret: string, input: string): Buffer {
  return createHmac('sha256', secret).update(input).digest();
}

export function signAccessToken(
  input: { sub: string; sid?: string; roles?: readonly string[]; since?: number; ttlSec: number; issuer: string; audience: string; now?: number },
  secret: string,
): string {
  const iat = input.now ?? Math.floor(Date.now() / 1000);
  const claims: AccessClaims = {
    sub: input.sub,
    sid: input.sid ?? randomUUID(),
    iss: input.issuer,
    aud: input.audience,
    iat,
    exp: iat + input.ttlSec,
    ...(input.roles ? { roles: input.roles } : {}),
    ...(input.since !== undefined ? { since: input.since } : {}),
  };
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signingInput = `${HEADER}.${body}`;
  return `${signingInput}.${mac(secret, signingInput).toString('base64url')}`;
}

function parseJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

export function verifyAccessToken(token: string, opts: VerifyOptions): VerifyResult {
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) return { ok: false, reason: 'malformed' };
  const [h, b, s] = parts as [string, string, string];
  const header = parseJson(h) as { alg?: unknown } | undefined;
  if (!header || typeof header !== 'object') return { ok: false, reason: 'malformed' };
  if (header.alg !== 'HS256') return { ok: false, reason: 'bad_algorithm' };
  // Compare the canonical encoding, not decoded bytes: base64url's trailing padding bits would otherwise
  // let several spellings of one signature pass.
  const expected = Buffer.from(mac(opts.secret, `${h}.${b}`).toString('base64url'));
  const given = Buffer.from(s);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad_signature' };
  const c = parseJson(b) as Record<string, unknown> | undefined;
  if (!c || typeof c !== 'object') return { ok: false, reason: 'malformed' };
  if (typeof c.sub !== 'string' || !ID.test(c.sub) || typeof c.sid !== 'string' || typeof c.exp !== 'number' || typeof c.iat !== 'number') {
    return { ok: false, reason: 'bad_claims' };
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const leeway = opts.leewaySec ?? 5;
  if (c.exp + leeway <= now) return { ok: false, reason: 'expired' };
  if (typeof c.nbf === 'number' && c.nbf - leeway > now) return { ok: false, reason: 'not_yet_valid' };
  if (c.iss !== opts.issuer) return { ok: false, reason: 'wrong_issuer' };
  const aud = c.aud;
  if (!(aud === opts.audience || (Array.isArray(aud) && aud.includes(opts.audience)))) return { ok: false, reason: 'wrong_audience' };
  if (c.roles !== undefined && !(Array.isArray(c.roles) && c.roles.every((r) => typeof r === 'string'))) return { ok: false, reason: 'bad_claims' };
  if (c.since !== undefined && !(typeof c.since === 'number' && Number.isSafeInteger(c.since))) return { ok: false, reason: 'bad_claims' };
  return { ok: true, claims: c as unknown as AccessClaims };
}
