/**
 * Accounts and sign-in sessions, independent of HTTP. Passwords are hashed with argon2id; access tokens are
 * short-lived HS256 JWTs (what the socket's hello accepts); refresh tokens are random, stored hashed, and
 * rotate on every use. Presenting a refresh token that was already used means it leaked: the whole sign-in
 * session (its family) is revoked and its sockets are closed.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import { signAccessToken, verifyAccessToken, type AccessClaims } from '../core/auth/jwt';
import type { AccountStore, LoginSession, User } from '../adapters/accounts/account-store';
import { ApiError } from './errors';
import { LoginThrottle } from './login-throttle';
import { PasswordPolicy } from './password-policy';
import { normaliseDisplayName } from './display-name';
import * as totp from './totp';
import QRCode from 'qrcode';

export interface AuthSettings {
  readonly secret: string;
  readonly issuer: string;
  readonly audience: string;
  readonly accessTtlSec: number;
  readonly refreshTtlSec: number;
}

export type LoginResult =
  | { kind: 'signed-in'; user: User; tokens: TokenPair }
  /** MFA is on: present `mfaTicket` with a code to /auth/mfa within five minutes. */
  | { kind: 'mfa-required'; mfaTicket: string };

const MFA_AUDIENCE = 'halobuzz-mfa';
const BACKUP_CODES = 10;

export interface TokenPair {
  readonly accessToken: string;
  readonly refreshToken: string;
  readonly tokenType: 'Bearer';
  readonly expiresIn: number;
  readonly sessionId: string;
}

export interface ClientInfo {
  readonly ip: string;
  readonly userAgent: string;
  /** The app's install id (the X-Device-Id header; docs/moderation.md § Devices), if sent. */
  readonly device?: string | null;
}

/**
 * What moderation decides about signing in and names (ModerationService): a suspended account is refused
 * before any session starts, the install id is remembered (and checked against suspended devices), and a
 * display name goes through the filter.
 */
export interface AuthHooks {
  beforeSession(userId: string, device: string | null, isNew: boolean): Promise<void>;
  displayName(name: string): { ok: true; flagged: string | null } | { ok: false; rule: string };
  flagName(userId: string, name: string, rule: string): Promise<void>;
}

/** Called with every sid that was revoked: closes its sockets and refuses its access tokens from now on. */
export type RevokeSink = (sids: readonly string[]) => void;

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');
/** How far back a sign-in makes an IP "known" to the account (spared by the account-wide lock). */
const KNOWN_IP_MS = 90 * 86_400_000;
/** How long a confirmed-live session id is trusted without asking the store again. */
const SESSION_CACHE_MS = 30_000;
const SESSION_CACHE_MAX = 50_000;

export class AuthService {
  readonly throttle: LoginThrottle;
  private readonly passwords = new PasswordPolicy();
  /** Session ids known to exist (allow-list), with when they were checked. */
  private readonly liveSessions = new Map<string, number>();
  /** An argon2 hash verified when the account does not exist, so both paths take the same time. */
  private readonly dummyHash = argonHash(randomBytes(16).toString('hex'));

  constructor(private readonly store: AccountStore, private readonly s: AuthSettings, private readonly onRevoke: RevokeSink,
    private readonly isRevoked: (sid: string) => boolean, throttle = new LoginThrottle(), private readonly hooks: AuthHooks | null = null) {
    this.throttle = throttle;
  }

  /**
   * A display name, normalised (display-name.ts) and through the moderation filter: refused with the rule's
   * name, or accepted (`flagged` names the rule that wants a review).
   */
  checkDisplayName(raw: string): { name: string; flagged: string | null } {
    const name = normaliseDisplayName(raw);
    if (!name.ok) throw new ApiError('HB_API_VALIDATION', name.reason);
    const verdict = this.hooks?.displayName(name.name) ?? { ok: true as const, flagged: null };
    if (!verdict.ok) throw new ApiError('HB_API_NAME_REJECTED', `this display name breaks the community rules (${verdict.rule})`, {}, { rule: verdict.rule });
    return { name: name.name, flagged: verdict.flagged };
  }

  /** Reports a display name the filter flagged (after the account or the change exists). */
  async nameChanged(userId: string, name: { name: string; flagged: string | null }): Promise<void> {
    if (name.flagged) await this.hooks?.flagName(userId, name.name, name.flagged);
  }

  /**
   * Creates an account. Refused from an IP locked out of sign-in; a taken email answers 409 (this API has
   * no email verification to hide it behind) but counts as a failure of that IP, so probing emails is
   * throttled like guessing passwords (docs/security.md).
   */
  async register(input: { email: string; password: string; displayName: string }, client: ClientInfo): Promise<{ user: User; tokens: TokenPair }> {
    const now = Date.now();
    const wait = this.throttle.ipBlockedFor(client.ip, now);
    if (wait > 0) throw new ApiError('HB_API_LOCKED_OUT', undefined, { 'retry-after': String(Math.ceil(wait / 1000)) });
    const name = this.checkDisplayName(input.displayName);
    const email = input.email.trim().toLowerCase();
    const weakness = this.passwords.weakness(input.password, [email, email.split('@')[0] ?? '', name.name]);
    if (weakness) throw new ApiError('HB_API_WEAK_PASSWORD', weakness);
    const user: User = {
      id: `u_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
      email,
      passwordHash: await argonHash(input.password),
      displayName: name.name,
      roles: ['user'],
      createdAt: now,
    };
    if ((await this.store.createUser(user)) === 'email_taken') {
      this.throttle.ipFailure(client.ip, now);
      throw new ApiError('HB_API_EMAIL_TAKEN');
    }
    await this.store.logEvent({ ts: Date.now(), userId: user.id, type: 'register', ip: client.ip, detail: '' });
    await this.nameChanged(user.id, name);
    return { user, tokens: await this.startSession(user, client, true) };
  }

  /**
   * The first step of every sign-in by email and password (signing in, restoring a closed account): the
   * lockout, the password (checked against a dummy hash for an unknown email, so timing says nothing), and
   * the security log of a refusal.
   */
  private async passwordUser(input: { email: string; password: string }, client: ClientInfo, now: number): Promise<{ user: User; email: string }> {
    const email = input.email.trim().toLowerCase();
    const user = await this.store.userByEmail(email);
    const known = user ? await this.store.signedInFrom(user.id, client.ip, now - KNOWN_IP_MS) : false;
    const wait = this.throttle.blockedFor(email, client.ip, now, known);
    if (wait > 0) {
      await this.store.logEvent({ ts: now, userId: null, type: 'login_locked', ip: client.ip, detail: email });
      throw new ApiError('HB_API_LOCKED_OUT', undefined, { 'retry-after': String(Math.ceil(wait / 1000)) });
    }
    const ok = user
      ? await argonVerify(user.passwordHash, input.password)
      : (await argonVerify(await this.dummyHash, input.password), false);
    if (!user || !ok) {
      this.throttle.failure(email, client.ip, now);
      await this.store.logEvent({ ts: now, userId: user?.id ?? null, type: 'login_failed', ip: client.ip, detail: email });
      throw new ApiError('HB_API_INVALID_CREDENTIALS');
    }
    return { user, email };
  }

  async login(input: { email: string; password: string }, client: ClientInfo): Promise<LoginResult> {
    const now = Date.now();
    const { user, email } = await this.passwordUser(input, client, now);
    if ((await this.store.mfa(user.id)).enabled) {
      await this.store.logEvent({ ts: now, userId: user.id, type: 'login_mfa_challenge', ip: client.ip, detail: '' });
      const mfaTicket = signAccessToken({ sub: user.id, ttlSec: 300, issuer: this.s.issuer, audience: MFA_AUDIENCE }, this.s.secret);
      return { kind: 'mfa-required', mfaTicket };
    }
    this.throttle.success(email, client.ip);
    await this.store.logEvent({ ts: now, userId: user.id, type: 'login', ip: client.ip, detail: client.userAgent });
    return { kind: 'signed-in', user, tokens: await this.startSession(user, client) };
  }

  /** Second step of an MFA sign-in: the ticket from login plus a TOTP or an unused backup code. */
  async completeMfa(ticket: string, code: string, client: ClientInfo): Promise<{ user: User; tokens: TokenPair }> {
    const v = verifyAccessToken(ticket, { secret: this.s.secret, issuer: this.s.issuer, audience: MFA_AUDIENCE });
    if (!v.ok) throw new ApiError(v.reason === 'expired' ? 'HB_API_MFA_TICKET_EXPIRED' : 'HB_API_UNAUTHENTICATED');
    const user = await this.store.userById(v.claims.sub);
    if (!user) throw new ApiError('HB_API_UNAUTHENTICATED');
    const now = Date.now();
    const known = await this.store.signedInFrom(user.id, client.ip, now - KNOWN_IP_MS);
    const wait = this.throttle.blockedFor(user.email, client.ip, now, known);
    if (wait > 0) throw new ApiError('HB_API_LOCKED_OUT', undefined, { 'retry-after': String(Math.ceil(wait / 1000)) });
    const ticketKey = `mfa-ticket:${v.claims.sid}`;
    // Checked before the code, so a used ticket never spends a backup code.
    if (await this.store.usedOnce(ticketKey)) throw new ApiError('HB_API_MFA_TICKET_USED');
    if (!(await this.checkCode(user.id, code, client))) {
      this.throttle.failure(user.email, client.ip, now);
      throw new ApiError('HB_API_MFA_INVALID');
    }
    // One use per ticket: a second sign-in with the same ticket (and a fresh code) is refused.
    if (!(await this.store.useOnce(ticketKey, v.claims.exp * 1000 + 60_000, now))) throw new ApiError('HB_API_MFA_TICKET_USED');
    this.throttle.success(user.email, client.ip);
    await this.store.logEvent({ ts: now, userId: user.id, type: 'login', ip: client.ip, detail: `mfa ${client.userAgent}` });
    return { user, tokens: await this.startSession(user, client) };
  }

  /** Starts TOTP enrolment: a new secret (not active until verified), its otpauth URI and a QR code. */
  async enrollMfa(claims: AccessClaims, client: ClientInfo): Promise<{ secret: string; otpauthUri: string; qrCodeDataUrl: string }> {
    const user = await this.store.userById(claims.sub);
    if (!user) throw new ApiError('HB_API_UNAUTHENTICATED');
    if ((await this.store.mfa(user.id)).enabled) throw new ApiError('HB_API_MFA_ALREADY_ENABLED');
    const secret = totp.newSecret();
    await this.store.setMfa(user.id, { secret, enabled: false, lastStep: 0 });
    await this.store.logEvent({ ts: Date.now(), userId: user.id, type: 'mfa_enroll_started', ip: client.ip, detail: '' });
    const otpauthUri = totp.otpauthUri(secret, user.email, this.s.issuer === 'halobuzz' ? 'HaloBuzz' : this.s.issuer);
    return { secret, otpauthUri, qrCodeDataUrl: await QRCode.toDataURL(otpauthUri) };
  }

  /** Confirms enrolment with a first code; returns the ten one-time backup codes (shown once, stored hashed). */
  async activateMfa(claims: AccessClaims, code: string, client: ClientInfo): Promise<{ backupCodes: string[] }> {
    const state = await this.store.mfa(claims.sub);
    if (state.enabled) throw new ApiError('HB_API_MFA_ALREADY_ENABLED');
    if (!state.secret) throw new ApiError('HB_API_MFA_NOT_ENROLLED');
    const step = totp.verify(state.secret, code, Date.now());
    if (step === null) {
      await this.store.logEvent({ ts: Date.now(), userId: claims.sub, type: 'mfa_failed', ip: client.ip, detail: 'activate' });
      throw new ApiError('HB_API_MFA_INVALID');
    }
    const backupCodes = Array.from({ length: BACKUP_CODES }, () => randomBytes(6).toString('hex'));
    await this.store.setMfa(claims.sub, { secret: state.secret, enabled: true, lastStep: step }, backupCodes.map(sha256));
    await this.store.logEvent({ ts: Date.now(), userId: claims.sub, type: 'mfa_enabled', ip: client.ip, detail: '' });
    return { backupCodes };
  }

  /** Turns MFA off; only with a valid TOTP or backup code. */
  async disableMfa(claims: AccessClaims, code: string, client: ClientInfo): Promise<void> {
    if (!(await this.store.mfa(claims.sub)).enabled) throw new ApiError('HB_API_MFA_NOT_ENROLLED');
    if (!(await this.checkCode(claims.sub, code, client))) throw new ApiError('HB_API_MFA_INVALID');
    await this.store.setMfa(claims.sub, { secret: null, enabled: false, lastStep: 0 }, []);
    await this.store.logEvent({ ts: Date.now(), userId: claims.sub, type: 'mfa_disabled', ip: client.ip, detail: '' });
  }

  /** A TOTP code not used before (replay-safe), or an unused backup code (consumed). */
  private async checkCode(userId: string, code: string, client: ClientInfo): Promise<boolean> {
    const state = await this.store.mfa(userId);
    if (!state.enabled || !state.secret) return false;
    const step = totp.verify(state.secret, code, Date.now());
    if (step !== null && (await this.store.useMfaStep(userId, step))) return true;
    if (/^[0-9a-f]{12}$/.test(code) && (await this.store.useBackupCode(userId, sha256(code)))) {
      await this.store.logEvent({ ts: Date.now(), userId, type: 'mfa_backup_code_used', ip: client.ip, detail: '' });
      return true;
    }
    await this.store.logEvent({ ts: Date.now(), userId, type: 'mfa_failed', ip: client.ip, detail: '' });
    return false;
  }

  async refresh(refreshToken: string, client: ClientInfo): Promise<TokenPair> {
    const next = randomBytes(32).toString('base64url');
    const now = Date.now();
    const r = await this.store.rotateRefresh(sha256(refreshToken), sha256(next), now + this.s.refreshTtlSec * 1000, now);
    switch (r.kind) {
      case 'rotated': {
        const user = await this.store.userById(r.session.userId);
        if (!user || user.deactivatedAt) throw new ApiError('HB_API_REFRESH_INVALID');
        return this.pair(user, r.session.sid, next);
      }
      case 'reused': {
        // A used refresh token came back: someone has a copy. End every session of this sign-in family.
        const revoked = await this.store.revokeSessions({ sid: r.session.sid }, now);
        this.onRevoke([r.session.sid, ...revoked]);
        await this.store.logEvent({ ts: now, userId: r.session.userId, type: 'refresh_reuse', ip: client.ip, detail: r.session.sid });
        throw new ApiError('HB_API_REFRESH_REUSED');
      }
      case 'revoked':
        throw new ApiError('HB_API_SESSION_REVOKED');
      default:
        throw new ApiError('HB_API_REFRESH_INVALID');
    }
  }

  /**
   * Verifies a bearer token: signature, expiry, audience, that its session was issued (an allow-list:
   * a correctly signed token naming a session that never existed is refused) and is not revoked. Live
   * sessions are cached for 30 s; revocations apply at once through `isRevoked`.
   */
  async authenticate(header: string | undefined): Promise<AccessClaims> {
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token) throw new ApiError('HB_API_UNAUTHENTICATED');
    const v = verifyAccessToken(token, { secret: this.s.secret, issuer: this.s.issuer, audience: this.s.audience });
    if (!v.ok) throw new ApiError(v.reason === 'expired' ? 'HB_API_TOKEN_EXPIRED' : 'HB_API_UNAUTHENTICATED');
    if (this.isRevoked(v.claims.sid)) throw new ApiError('HB_API_SESSION_REVOKED');
    const now = Date.now();
    const checked = this.liveSessions.get(v.claims.sid);
    if (checked === undefined || now - checked > SESSION_CACHE_MS) {
      const session = await this.store.session(v.claims.sid);
      if (!session || session.userId !== v.claims.sub) throw new ApiError('HB_API_UNAUTHENTICATED');
      if (session.revokedAt !== null) throw new ApiError('HB_API_SESSION_REVOKED');
      if (this.liveSessions.size >= SESSION_CACHE_MAX) this.liveSessions.clear();
      this.liveSessions.set(v.claims.sid, now);
    }
    return v.claims;
  }

  async logout(claims: AccessClaims, client: ClientInfo, everywhere: boolean): Promise<number> {
    const sids = await this.store.revokeSessions(everywhere ? { userId: claims.sub } : { sid: claims.sid }, Date.now());
    this.onRevoke(everywhere ? sids : [claims.sid]);
    await this.store.logEvent({ ts: Date.now(), userId: claims.sub, type: everywhere ? 'logout_all' : 'logout', ip: client.ip, detail: sids.join(',') });
    return sids.length;
  }

  sessions(userId: string): Promise<LoginSession[]> {
    return this.store.sessionsOf(userId);
  }

  async revokeOne(claims: AccessClaims, sid: string, client: ClientInfo): Promise<void> {
    const target = await this.store.session(sid);
    if (!target || target.userId !== claims.sub || target.revokedAt !== null) throw new ApiError('HB_API_NOT_FOUND');
    await this.store.revokeSessions({ sid }, Date.now());
    this.onRevoke([sid]);
    await this.store.logEvent({ ts: Date.now(), userId: claims.sub, type: 'session_revoked', ip: client.ip, detail: sid });
  }

  /**
   * A fresh proof of identity for a grave step (closing the account): the password, or a current MFA
   * code. Wrong answers count towards the sign-in lockout like a failed sign-in.
   */
  async confirm(userId: string, proof: { password?: string; code?: string }, client: ClientInfo): Promise<User> {
    const user = await this.store.userById(userId);
    if (!user) throw new ApiError('HB_API_UNAUTHENTICATED');
    if (proof.password === undefined && proof.code === undefined) throw new ApiError('HB_API_CONFIRMATION_REQUIRED');
    const now = Date.now();
    const wait = this.throttle.blockedFor(user.email, client.ip, now, true);
    if (wait > 0) throw new ApiError('HB_API_LOCKED_OUT', undefined, { 'retry-after': String(Math.ceil(wait / 1000)) });
    const ok = proof.password !== undefined ? await argonVerify(user.passwordHash, proof.password) : await this.checkCode(user.id, proof.code!, client);
    if (!ok) {
      this.throttle.failure(user.email, client.ip, now);
      await this.store.logEvent({ ts: now, userId: user.id, type: 'confirm_failed', ip: client.ip, detail: '' });
      throw new ApiError(proof.password !== undefined ? 'HB_API_INVALID_CREDENTIALS' : 'HB_API_MFA_INVALID');
    }
    return user;
  }

  /**
   * The owner of a closed account proves it is them without signing in (signing in is refused while it is
   * closed): email and password, and an MFA code when MFA is on.
   */
  async verifyOwner(input: { email: string; password: string; code?: string }, client: ClientInfo): Promise<User> {
    const now = Date.now();
    const { user, email } = await this.passwordUser(input, client, now);
    if ((await this.store.mfa(user.id)).enabled) {
      if (input.code === undefined) throw new ApiError('HB_API_CONFIRMATION_REQUIRED');
      if (!(await this.checkCode(user.id, input.code, client))) {
        this.throttle.failure(email, client.ip, now);
        throw new ApiError('HB_API_MFA_INVALID');
      }
    }
    this.throttle.success(email, client.ip);
    return user;
  }

  private async startSession(user: User, client: ClientInfo, isNew = false): Promise<TokenPair> {
    // A closed account signs in to nothing; its owner restores it first (POST /v1/auth/restore).
    if (user.deactivatedAt) throw new ApiError('HB_API_ACCOUNT_DEACTIVATED', undefined, {}, { eraseAfter: user.eraseAfter ?? null });
    await this.hooks?.beforeSession(user.id, client.device ?? null, isNew);
    const now = Date.now();
    const refresh = randomBytes(32).toString('base64url');
    const sid = randomUUID();
    await this.store.createSession({ sid, userId: user.id, createdAt: now, lastUsedAt: now, userAgent: client.userAgent.slice(0, 200), ip: client.ip, revokedAt: null },
      sha256(refresh), now + this.s.refreshTtlSec * 1000);
    return this.pair(user, sid, refresh);
  }

  private pair(user: User, sid: string, refreshToken: string): TokenPair {
    const accessToken = signAccessToken({ sub: user.id, sid, roles: user.roles, since: Math.floor(user.createdAt / 1000), ttlSec: this.s.accessTtlSec, issuer: this.s.issuer, audience: this.s.audience }, this.s.secret);
    return { accessToken, refreshToken, tokenType: 'Bearer', expiresIn: this.s.accessTtlSec, sessionId: sid };
  }
}
