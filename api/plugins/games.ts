/**
 * Games over HTTP: a settled round's proof (public: anyone may verify a round), a player's own limits and
 * self-exclusion, and staff oversight (flags raised by anomaly detection, freezing a player's play).
 * Play itself is realtime (docs/protocol.md § Games); docs/games.md explains proofs and limits.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { parsePayouts, type Ledger } from '../../adapters/ledger/ledger';
import type { PlayStore } from '../../adapters/games/play-store';
import type { PlayLimits } from '../../economy/games/game-config';
import { utcDay } from '../../economy/games/play-guard';
import { ApiError } from '../errors';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';

export interface GamesPluginOptions {
  readonly ledger: Ledger;
  /** Null when games are off: the player and staff routes answer HB_API_GAMES_DISABLED. */
  readonly play: { readonly store: PlayStore; readonly limits: PlayLimits } | null;
  readonly now?: () => number;
}

const Id = Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' });

export const gamesPlugin: FastifyPluginAsyncTypebox<GamesPluginOptions> = async (app, opts) => {
  const now = opts.now ?? Date.now;
  const play = () => {
    if (!opts.play) throw new ApiError('HB_API_GAMES_DISABLED');
    return opts.play;
  };

  app.get('/v1/games/rounds/:id/proof', {
    schema: {
      tags: ['games'], summary: 'What a player needs to verify a settled round or duel (docs/games.md § Verify a round by hand)',
      params: Type.Object({ id: Id }),
      response: {
        200: Type.Object({
          round: Type.String(), game: Type.String(), settledAt: Type.Integer(), stakes: Type.Integer(),
          payouts: Type.Array(Type.Array(Type.Union([Type.String(), Type.Integer()]), { minItems: 2, maxItems: 2 }), { description: '[user, coins] of every winner' }),
          hostShareBps: Type.Integer(),
          proof: Type.Record(Type.String(), Type.Unknown(), { description: 'wheel: serverSeed, serverSeedHash, clientSeed, nonce, landed, table; duel: rounds (commitments, moves, salts), winner, and for the bot serverSeed, serverSeedHash, clientSeed' }),
        }, { additionalProperties: true }),
        ...errorResponses(400, 404),
      },
    },
  }, async (req) => {
    const entry = await opts.ledger.entry(`settle:${req.params.id}`);
    if (!entry || entry.kind !== 'settle') throw new ApiError('HB_API_NOT_FOUND', 'no settled round with this id (it may still be open, or was cancelled and refunded)');
    const m = entry.meta;
    const proof = typeof m.proof === 'string' ? JSON.parse(m.proof) as Record<string, unknown> : {};
    return {
      round: req.params.id, game: String(m.game ?? proof.game ?? ''), settledAt: entry.ts, stakes: m.stakes as number,
      payouts: parsePayouts(String(m.payouts)) ?? [], hostShareBps: m.hostShareBps as number, proof, ...proof,
    };
  });

  const Limits = Type.Object({
    dailyStakeCap: Type.Union([Type.Integer(), Type.Null()]), stakedToday: Type.Integer(),
    selfExcludedUntil: Type.Union([Type.Integer(), Type.Null()]), frozen: Type.Boolean(),
    minAccountAgeDays: Type.Union([Type.Integer(), Type.Null()]), blockedCountries: Type.Array(Type.String()),
  });
  const limitsOf = async (user: string) => {
    const p = play();
    const r = await p.store.restrictions(user);
    return {
      dailyStakeCap: p.limits.dailyStakeCap, stakedToday: await p.store.stakedOn(user, utcDay(now())),
      selfExcludedUntil: r.selfExcludedUntil !== null && r.selfExcludedUntil > now() ? r.selfExcludedUntil : null, frozen: r.frozenReason !== null,
      minAccountAgeDays: p.limits.minAccountAgeDays, blockedCountries: [...p.limits.blockedCountries],
    };
  };

  app.get('/v1/me/games/limits', {
    schema: { tags: ['games'], summary: 'Your play limits: the daily stake cap and what you staked today (UTC), self-exclusion, a freeze', security: [{ bearer: [] }],
      response: { 200: Limits, ...errorResponses(401, 503) } },
  }, async (req) => limitsOf(claimsOf(req).sub));

  app.post('/v1/me/games/self-exclusion', {
    schema: {
      tags: ['games'], summary: 'Exclude yourself from games for a number of days (it can be extended, never shortened)', security: [{ bearer: [] }],
      body: Type.Object({ days: Type.Integer({ minimum: 1, maximum: 3650 }) }, { additionalProperties: false }),
      response: { 200: Limits, ...errorResponses(400, 401, 503) },
    },
  }, async (req) => {
    const p = play();
    if (req.body.days > p.limits.maxSelfExclusionDays) throw new ApiError('HB_API_VALIDATION', `at most ${p.limits.maxSelfExclusionDays} days`);
    const user = claimsOf(req).sub;
    await p.store.setSelfExclusion(user, now() + req.body.days * 86_400_000);
    return limitsOf(user);
  });

  const Flag = Type.Object({ id: Type.String(), kind: Type.String(), user: Type.String(), detail: Type.String(), at: Type.Integer() });
  app.get('/v1/admin/games/flags', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['admin'], summary: 'Anomaly flags raised by games (win rate, chip dumping, stakes after a disputed purchase), newest first (role admin)', security: [{ bearer: [] }],
      querystring: Type.Object({ user: Type.Optional(Id), limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ flags: Type.Array(Flag) }), ...errorResponses(400, 401, 403, 503) },
    },
  }, async (req) => ({ flags: await play().store.flags({ limit: Number(req.query.limit ?? 50), ...(req.query.user ? { user: req.query.user } : {}) }) }));

  app.post('/v1/admin/games/freeze', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['admin'], summary: 'Freeze (reason) or unfreeze (reason null) a player\'s play; a frozen player\'s stakes are refused with PLAY_FROZEN (role admin)', security: [{ bearer: [] }],
      body: Type.Object({ user: Id, reason: Type.Union([Type.String({ minLength: 3, maxLength: 200 }), Type.Null()]) }, { additionalProperties: false }),
      response: { 200: Type.Object({ user: Type.String(), frozen: Type.Boolean() }), ...errorResponses(400, 401, 403, 503) },
    },
  }, async (req) => {
    await play().store.setFrozen(req.body.user, req.body.reason);
    req.log.warn({ type: 'play_freeze', userId: req.body.user, by: claimsOf(req).sub, reason: req.body.reason }, 'play_freeze');
    return { user: req.body.user, frozen: req.body.reason !== null };
  });
};
