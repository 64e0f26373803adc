/**
 * FollowStore: who follows whom. Lists page by cursor, never by offset, so a creator with millions of
 * followers pages in constant time per page, and pages stay correct while people follow and unfollow:
 * every follow gets a sequence number from the store, larger than any before it, and lists run newest
 * first by that number. A follow made while someone is paging lands before their cursor (they do not see
 * it twice); an unfollow removes one row and moves no other; so a reader sees each follower that existed
 * throughout exactly once. A follow again after an unfollow is a new follow (new number, new `since`).
 */
import type { PersonalData } from '../privacy/personal-data';

export interface Follow {
  readonly user: string;
  /** When the follow was made (ms). */
  readonly since: number;
}

export interface FollowPage {
  readonly items: readonly Follow[];
  /** Pass as `after` for the next page; null on the last page. */
  readonly next: string | null;
}

export interface FollowCounts {
  readonly followers: number;
  readonly following: number;
}

export interface FollowStore extends PersonalData {
  /** `follower` follows `creator`; false when it already did (nothing changes). */
  follow(follower: string, creator: string, now: number): Promise<boolean>;
  /** Ends a follow; false when there was none. */
  unfollow(follower: string, creator: string): Promise<boolean>;
  /** Ends follows both ways between two users (a block). */
  unlink(a: string, b: string): Promise<void>;
  isFollowing(follower: string, creator: string): Promise<boolean>;
  /** Who follows `creator`, newest first. */
  followers(creator: string, page: { limit: number; after?: string }): Promise<FollowPage>;
  /** Whom `user` follows, newest first. */
  following(user: string, page: { limit: number; after?: string }): Promise<FollowPage>;
  counts(user: string): Promise<FollowCounts>;
  close(): Promise<void>;
}

/** Cursors are opaque to clients: the sequence number of the last row seen, in base 36. */
export function encodeCursor(seq: number): string {
  return seq.toString(36);
}

/** The sequence number a cursor names, or null when it is not one of ours. */
export function decodeCursor(cursor: string | undefined): number | null | undefined {
  if (cursor === undefined) return undefined;
  if (!/^[0-9a-z]{1,11}$/.test(cursor)) return null;
  const n = parseInt(cursor, 36);
  return Number.isSafeInteger(n) ? n : null;
}

export class BadCursorError extends Error {
  readonly code = 'BAD_CURSOR';
  constructor() {
    super('the cursor is not one this server gave out');
  }
}
