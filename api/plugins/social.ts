/**
 * The follow graph over HTTP: follow and unfollow a creator, remove one of your followers, list anyone's
 * followers and following (newest first, paged by an opaque cursor), and public profiles with follower
 * counts and the room a creator is live in now. A block (PUT /v1/me/blocks/{id}) ends follows both ways,
 * and blocked users cannot follow. docs/social.md describes paging guarantees.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AccountStore } from '../../adapters/accounts/account-store';
import type { RoomDirectory } from '../../adapters/rooms/room-directory';
import { BadCursorError, type FollowPage, type FollowStore } from '../../adapters/social/follow-store';
import { ApiError } from '../errors';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';

export interface SocialPluginOptions {
  readonly follows: FollowStore;
  readonly accounts: AccountStore;
  readonly rooms: RoomDirectory;
  /** Who sent an optional bearer token (null when none, or not valid). */
  readonly viewer: (authorization: string | undefined) => Promise<string | null>;
  readonly now?: () => number;
}

const UserId = Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' });
const PageQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$', description: '1–100, default 50' })),
  after: Type.Optional(Type.String({ pattern: '^[0-9a-z]{1,11}$', description: 'the `next` of the previous page' })),
}, { additionalProperties: false });
const Person = Type.Object({ id: Type.String(), displayName: Type.String(), avatarUrl: Type.Union([Type.String(), Type.Null()]), since: Type.Integer({ description: 'when the follow was made (ms)' }) });
const PageBody = Type.Object({ items: Type.Array(Person), next: Type.Union([Type.String(), Type.Null()]) });
const Profile = Type.Object({
  id: Type.String(), displayName: Type.String(), avatarUrl: Type.Union([Type.String(), Type.Null()]),
  followers: Type.Integer(), following: Type.Integer(),
  live: Type.Union([Type.Object({ room: Type.String(), title: Type.String(), startedAt: Type.Integer() }), Type.Null()], { description: 'the room this user is live in now, or null' }),
  followedByYou: Type.Union([Type.Boolean(), Type.Null()], { description: 'null when the request is not signed in' }),
});

export const socialPlugin: FastifyPluginAsyncTypebox<SocialPluginOptions> = async (app, opts) => {
  const { follows, accounts } = opts;
  const now = opts.now ?? Date.now;
  const secured = { security: [{ bearer: [] }] };
  const paged = async (list: () => Promise<FollowPage>) => {
    let page: FollowPage;
    try {
      page = await list();
    } catch (err) {
      if (err instanceof BadCursorError) throw new ApiError('HB_API_VALIDATION', err.message);
      throw err;
    }
    // Accounts closed (pending erasure) or erased since they followed are left out (docs/privacy.md).
    const people = await Promise.all(page.items.map(async (f) => {
      const u = await accounts.userById(f.user);
      return u && !u.deactivatedAt ? { id: u.id, displayName: u.displayName, avatarUrl: u.avatarUrl ?? null, since: f.since } : null;
    }));
    return { items: people.filter((p) => p !== null), next: page.next };
  };
  const existing = async (id: string) => {
    const u = await accounts.userById(id);
    if (!u || u.deactivatedAt) throw new ApiError('HB_API_NOT_FOUND', 'no such user');
    return u;
  };

  app.put('/v1/me/following/:userId', {
    schema: { tags: ['social'], summary: 'Follow a user (idempotent)', ...secured, params: Type.Object({ userId: UserId }),
      response: { 200: Type.Object({ following: Type.Boolean(), created: Type.Boolean() }), ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => {
    const me = claimsOf(req).sub;
    const target = req.params.userId;
    if (target === me) throw new ApiError('HB_API_VALIDATION', 'you cannot follow yourself');
    await existing(target);
    const theirBlocks = await accounts.blocks(target);
    const myBlocks = await accounts.blocks(me);
    if (theirBlocks.some((b) => b.userId === me) || myBlocks.some((b) => b.userId === target)) throw new ApiError('HB_API_FORBIDDEN', 'one of you blocked the other');
    return { following: true, created: await follows.follow(me, target, now()) };
  });

  app.delete('/v1/me/following/:userId', {
    schema: { tags: ['social'], summary: 'Unfollow a user', ...secured, params: Type.Object({ userId: UserId }), response: { 204: Type.Null(), ...errorResponses(401, 404) } },
  }, async (req, reply) => {
    if (!(await follows.unfollow(claimsOf(req).sub, req.params.userId))) throw new ApiError('HB_API_NOT_FOUND', 'you do not follow this user');
    return reply.status(204).send(null);
  });

  app.delete('/v1/me/followers/:userId', {
    schema: { tags: ['social'], summary: 'Remove one of your followers (they may follow again; block them to stop that)', ...secured, params: Type.Object({ userId: UserId }), response: { 204: Type.Null(), ...errorResponses(401, 404) } },
  }, async (req, reply) => {
    if (!(await follows.unfollow(req.params.userId, claimsOf(req).sub))) throw new ApiError('HB_API_NOT_FOUND', 'this user does not follow you');
    return reply.status(204).send(null);
  });

  app.get('/v1/users/:userId/followers', {
    schema: { tags: ['social'], summary: 'Who follows this user, newest first (cursor paging)', params: Type.Object({ userId: UserId }), querystring: PageQuery, response: { 200: PageBody, ...errorResponses(400, 404) } },
  }, async (req) => {
    await existing(req.params.userId);
    return paged(() => follows.followers(req.params.userId, { limit: Number(req.query.limit ?? 50), ...(req.query.after ? { after: req.query.after } : {}) }));
  });

  app.get('/v1/users/:userId/following', {
    schema: { tags: ['social'], summary: 'Whom this user follows, newest first (cursor paging)', params: Type.Object({ userId: UserId }), querystring: PageQuery, response: { 200: PageBody, ...errorResponses(400, 404) } },
  }, async (req) => {
    await existing(req.params.userId);
    return paged(() => follows.following(req.params.userId, { limit: Number(req.query.limit ?? 50), ...(req.query.after ? { after: req.query.after } : {}) }));
  });

  app.get('/v1/users/:userId', {
    schema: { tags: ['social'], summary: 'A public profile: name, avatar, follower counts, live now', params: Type.Object({ userId: UserId }), response: { 200: Profile, ...errorResponses(400, 404) } },
  }, async (req) => {
    const u = await existing(req.params.userId);
    const [counts, live] = await Promise.all([follows.counts(u.id), opts.rooms.liveRoomOf(u.id)]);
    // Signed-in callers (an optional bearer token) also learn whether they follow this user.
    const viewer = await opts.viewer(req.headers.authorization);
    return {
      id: u.id, displayName: u.displayName, avatarUrl: u.avatarUrl ?? null, followers: counts.followers, following: counts.following,
      live: live ? { room: live.id, title: live.title, startedAt: live.startedAt } : null,
      followedByYou: viewer === null ? null : await follows.isFollowing(viewer, u.id),
    };
  });
};
