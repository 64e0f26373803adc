/**
 * AccountStore: users, their login sessions (one per device sign-in, also the refresh-token family) and
 * the security event log. The embedded implementation is SQLite; MongoDB (system of record) follows.
 *
 * Contract: `rotateRefresh` is atomic: a refresh token is consumed at most once, and presenting a consumed
 * one reports `reused` with the session it belonged to, so the caller can revoke the whole family.
 */

import type { PersonalData } from '../privacy/personal-data';

export interface User {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly displayName: string;
  readonly roles: readonly string[];
  readonly createdAt: number;
  readonly avatarUrl?: string | null;
  readonly locale?: string | null;
  readonly country?: string | null;
  /** Set when the owner asked for erasure: the account is closed and erased at `eraseAfter` unless restored. */
  readonly deactivatedAt?: number | null;
  readonly eraseAfter?: number | null;
  /** What replaces the id in records kept after erasure; fixed at deactivation so a resumed erasure uses the same. */
  readonly pseudonym?: string | null;
}

export interface Profile {
  readonly displayName?: string;
  readonly avatarUrl?: string | null;
  readonly locale?: string | null;
  readonly country?: string | null;
}

/** TOTP state: a secret while enrolling (enabled false), then enabled; `lastStep` blocks code replay. */
export interface MfaState {
  readonly secret: string | null;
  readonly enabled: boolean;
  readonly lastStep: number;
}

export interface LoginSession {
  readonly sid: string;
  readonly userId: string;
  readonly createdAt: number;
  readonly lastUsedAt: number;
  readonly userAgent: string;
  readonly ip: string;
  readonly revokedAt: number | null;
}

export interface SecurityEvent {
  readonly id: number;
  readonly ts: number;
  readonly userId: string | null;
  readonly type: string;
  readonly ip: string;
  readonly detail: string;
}

export type RotateResult =
  | { kind: 'rotated'; session: LoginSession }
  | { kind: 'reused'; session: LoginSession }
  | { kind: 'revoked'; session: LoginSession }
  | { kind: 'expired' }
  | { kind: 'unknown' };

export interface AccountStore extends PersonalData {
  createUser(user: User): Promise<'created' | 'email_taken'>;
  userByEmail(email: string): Promise<User | null>;
  userById(id: string): Promise<User | null>;
  /** Starts a session with its first refresh token (stored as a hash). */
  createSession(session: LoginSession, refreshHash: string, refreshExpiresAt: number): Promise<void>;
  /** Consumes `oldHash` and stores `newHash` in the same session, atomically. */
  rotateRefresh(oldHash: string, newHash: string, newExpiresAt: number, now: number): Promise<RotateResult>;
  session(sid: string): Promise<LoginSession | null>;
  sessionsOf(userId: string): Promise<LoginSession[]>;
  /** Revokes sessions; returns the sids that were live. */
  revokeSessions(filter: { sid: string } | { userId: string }, now: number): Promise<string[]>;
  /** Every revoked sid whose tokens could still be unexpired (revoked within `sinceMs`). */
  revokedSince(sinceMs: number): Promise<string[]>;
  updateProfile(userId: string, profile: Profile): Promise<User | null>;
  setRoles(userId: string, roles: readonly string[]): Promise<void>;
  block(userId: string, blocked: string, now: number): Promise<void>;
  unblock(userId: string, blocked: string): Promise<boolean>;
  blocks(userId: string): Promise<{ userId: string; since: number }[]>;
  isBlocked(userId: string, by: string): Promise<boolean>;
  mfa(userId: string): Promise<MfaState>;
  setMfa(userId: string, state: MfaState, backupCodeHashes?: readonly string[]): Promise<void>;
  /** Accepts TOTP step `step` only if it is newer than the last one used (atomic). */
  useMfaStep(userId: string, step: number): Promise<boolean>;
  /** Consumes a backup code (by hash) once; false when unknown or already used. */
  useBackupCode(userId: string, hash: string): Promise<boolean>;
  /** Marks a one-time credential (an MFA ticket) used; false when it already was. Kept until `expiresAt`. */
  useOnce(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Whether `useOnce(key)` already happened (checked before spending an MFA code on a used ticket). */
  usedOnce(key: string): Promise<boolean>;
  /** Whether the account ever started a session from `ip` since `sinceMs` (a known IP of its owner). */
  signedInFrom(userId: string, ip: string, sinceMs: number): Promise<boolean>;
  logEvent(event: Omit<SecurityEvent, 'id'>): Promise<void>;
  events(filter: { userId?: string; type?: string; before?: number; limit: number }): Promise<SecurityEvent[]>;
  /** Closes the account pending erasure; false when it is already closed. */
  deactivate(userId: string, at: number, eraseAfter: number, pseudonym: string): Promise<boolean>;
  /** Reopens an account closed pending erasure; false when it was not closed. */
  reactivate(userId: string): Promise<boolean>;
  /** Closed accounts whose grace period is over, oldest first. */
  dueErasures(now: number, limit: number): Promise<User[]>;
  /** Which of `ids` are closed (pending erasure): hidden from follower lists and discovery. */
  deactivatedAmong(ids: readonly string[]): Promise<Set<string>>;
  close(): Promise<void>;
}
