/**
 * Sign-up, sign-in, token refresh with rotation, sign-out (one session or everywhere) and the session
 * list. Access tokens from here are what the socket hello accepts; revoking a session closes its sockets.
 */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuthService, ClientInfo } from '../auth-service';
import { TokenPairBody, UserBody, errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';

const Email = Type.String({ format: 'email', maxLength: 254 });
const Password = Type.String({ minLength: 10, maxLength: 200 });

/** The install id an app sends as X-Device-Id (docs/moderation.md § Devices); anything malformed is ignored. */
const DEVICE = /^[A-Za-z0-9_.:-]{8,64}$/;
export const clientOf = (req: FastifyRequest): ClientInfo => {
  const device = req.headers['x-device-id'];
  return { ip: req.ip, userAgent: String(req.headers['user-agent'] ?? ''), device: typeof device === 'string' && DEVICE.test(device) ? device : null };
};

export const authPlugin: FastifyPluginAsyncTypebox<{ auth: AuthService; signInPerMinute: number }> = async (app, opts) => {
  const auth = opts.auth;
  const strict = { rateLimit: { max: opts.signInPerMinute, timeWindow: 60_000 } };

  app.post('/register', {
    config: strict,
    schema: {
      tags: ['auth'], summary: 'Create an account and sign in',
      description: 'The password must be 10+ characters and not common or easy to guess (HB_API_WEAK_PASSWORD); the display name is normalised (see PATCH /v1/me). A taken email answers 409 and counts as a failed attempt of your IP (docs/security.md).',
      body: Type.Object({ email: Email, password: Password, displayName: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 201: Type.Object({ user: UserBody, tokens: TokenPairBody }), ...errorResponses(400, 409, 429) },
    },
  }, async (req, reply) => {
    const body = req.body;
    const { user, tokens } = await auth.register(body, clientOf(req));
    return reply.status(201).send({ user: { id: user.id, email: user.email, displayName: user.displayName }, tokens });
  });

  app.post('/login', {
    config: strict,
    schema: {
      tags: ['auth'], summary: 'Sign in with email and password',
      body: Type.Object({ email: Email, password: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
      response: {
        200: Type.Union([
          Type.Object({ user: UserBody, tokens: TokenPairBody }),
          Type.Object({ mfaRequired: Type.Literal(true), mfaTicket: Type.String({ description: 'send it with a code to /v1/auth/mfa within 5 minutes' }) }),
        ]),
        ...errorResponses(400, 401, 429),
      },
    },
  }, async (req) => {
    const r = await auth.login(req.body, clientOf(req));
    if (r.kind === 'mfa-required') return { mfaRequired: true as const, mfaTicket: r.mfaTicket };
    return { user: { id: r.user.id, email: r.user.email, displayName: r.user.displayName }, tokens: r.tokens };
  });

  app.post('/mfa', {
    config: strict,
    schema: {
      tags: ['auth'], summary: 'Second sign-in step: the MFA ticket and a TOTP or backup code',
      body: Type.Object({ mfaTicket: Type.String({ minLength: 20, maxLength: 2000 }), code: Type.String({ pattern: '^([0-9]{6}|[0-9a-f]{12})$' }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ user: UserBody, tokens: TokenPairBody }), ...errorResponses(400, 401, 429) },
    },
  }, async (req) => {
    const body = req.body;
    const { user, tokens } = await auth.completeMfa(body.mfaTicket, body.code, clientOf(req));
    return { user: { id: user.id, email: user.email, displayName: user.displayName }, tokens };
  });

  app.post('/refresh', {
    config: strict,
    schema: {
      tags: ['auth'], summary: 'Exchange a refresh token for a new pair (the old one stops working)',
      body: Type.Object({ refreshToken: Type.String({ minLength: 20, maxLength: 200 }) }, { additionalProperties: false }),
      response: { 200: TokenPairBody, ...errorResponses(400, 401, 429) },
    },
  }, async (req) => auth.refresh(req.body.refreshToken, clientOf(req)));

  app.post('/logout', {
    schema: { tags: ['auth'], summary: 'End this session', security: [{ bearer: [] }], response: { 204: Type.Null(), ...errorResponses(401) } },
  }, async (req, reply) => {
    await auth.logout(claimsOf(req), clientOf(req), false);
    return reply.status(204).send(null);
  });

  app.post('/logout-all', {
    schema: { tags: ['auth'], summary: 'End every session of this account (closes all its sockets)', security: [{ bearer: [] }], response: { 200: Type.Object({ revoked: Type.Integer() }), ...errorResponses(401) } },
  }, async (req) => ({ revoked: await auth.logout(claimsOf(req), clientOf(req), true) }));

  app.get('/sessions', {
    schema: {
      tags: ['auth'], summary: 'Live sessions of this account', security: [{ bearer: [] }],
      response: {
        200: Type.Object({ sessions: Type.Array(Type.Object({ sessionId: Type.String(), createdAt: Type.Integer(), lastUsedAt: Type.Integer(), userAgent: Type.String(), ip: Type.String(), current: Type.Boolean() })) }),
        ...errorResponses(401),
      },
    },
  }, async (req) => {
    const claims = claimsOf(req);
    const sessions = await auth.sessions(claims.sub);
    return { sessions: sessions.map((s) => ({ sessionId: s.sid, createdAt: s.createdAt, lastUsedAt: s.lastUsedAt, userAgent: s.userAgent, ip: s.ip, current: s.sid === claims.sid })) };
  });

  app.delete('/sessions/:sessionId', {
    schema: {
      tags: ['auth'], summary: 'End one of this account\'s sessions', security: [{ bearer: [] }],
      params: Type.Object({ sessionId: Type.String({ minLength: 1, maxLength: 64 }) }),
      response: { 204: Type.Null(), ...errorResponses(401, 404) },
    },
  }, async (req, reply) => {
    await auth.revokeOne(claimsOf(req), req.params.sessionId, clientOf(req));
    return reply.status(204).send(null);
  });
};
