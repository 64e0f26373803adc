/** The signed-in user's profile, blocked users (a block also ends follows both ways), and MFA (TOTP enrolment, activation, disabling). */
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuthService } from '../auth-service';
import type { AccountStore, User } from '../../adapters/accounts/account-store';
import { ApiError } from '../errors';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';
import { clientOf } from './auth';
import type { FollowStore } from '../../adapters/social/follow-store';

const Profile = Type.Object({
  id: Type.String(), email: Type.String(), displayName: Type.String(), avatarUrl: Type.Union([Type.String(), Type.Null()]),
  locale: Type.Union([Type.String(), Type.Null()]), country: Type.Union([Type.String(), Type.Null()]), roles: Type.Array(Type.String()), mfaEnabled: Type.Boolean(),
});
const Code = Type.String({ pattern: '^([0-9]{6}|[0-9a-f]{12})$', description: 'a 6-digit TOTP code or a 12-character backup code' });
const UserId = Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' });

export const mePlugin: FastifyPluginAsyncTypebox<{ auth: AuthService; accounts: AccountStore; follows?: FollowStore }> = async (app, opts) => {
  const { auth, accounts } = opts;
  const profile = async (u: User) => ({
    id: u.id, email: u.email, displayName: u.displayName, avatarUrl: u.avatarUrl ?? null, locale: u.locale ?? null, country: u.country ?? null,
    roles: [...u.roles], mfaEnabled: (await accounts.mfa(u.id)).enabled,
  });
  const me = async (req: FastifyRequest) => {
    const claims = claimsOf(req);
    const user = await accounts.userById(claims.sub);
    if (!user) throw new ApiError('HB_API_UNAUTHENTICATED');
    return { claims, user };
  };
  const secured = { security: [{ bearer: [] }] };

  app.get('', { schema: { tags: ['me'], summary: 'Your profile', ...secured, response: { 200: Profile, ...errorResponses(401) } } },
    async (req) => profile((await me(req)).user));

  app.patch('', {
    schema: {
      tags: ['me'], summary: 'Change your profile', ...secured,
      body: Type.Object({
        displayName: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'NFC-normalised and trimmed; 1–40 code points; no control, bidi-formatting or < > characters' })),
        avatarUrl: Type.Optional(Type.Union([Type.String({ pattern: '^https://[^\\\\s]{1,500}$' }), Type.Null()])),
        locale: Type.Optional(Type.Union([Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$' }), Type.Null()])),
        country: Type.Optional(Type.Union([Type.String({ pattern: '^[A-Z]{2}$' }), Type.Null()])),
      }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: Profile, ...errorResponses(400, 401) },
    },
  }, async (req) => {
    const { user } = await me(req);
    // (HB_API_NAME_REJECTED is a 400 too: the filter refused the name.)
    const body = { ...req.body };
    const name = body.displayName === undefined ? null : opts.auth.checkDisplayName(body.displayName);
    if (name) body.displayName = name.name;
    const updated = profile((await accounts.updateProfile(user.id, body))!);
    if (name) await opts.auth.nameChanged(user.id, name);
    return updated;
  });

  app.get('/blocks', {
    schema: { tags: ['me'], summary: 'Users you blocked', ...secured, response: { 200: Type.Object({ blocked: Type.Array(Type.Object({ userId: Type.String(), since: Type.Integer() })) }), ...errorResponses(401) } },
  }, async (req) => ({ blocked: await accounts.blocks((await me(req)).user.id) }));

  app.put('/blocks/:userId', {
    schema: { tags: ['me'], summary: 'Block a user: they cannot watch your streams (404 if no such user)', ...secured, params: Type.Object({ userId: UserId }), response: { 204: Type.Null(), ...errorResponses(400, 401, 404) } },
  }, async (req, reply) => {
    const { user } = await me(req);
    const target = req.params.userId;
    if (target === user.id) throw new ApiError('HB_API_VALIDATION', 'you cannot block yourself');
    if (!(await accounts.userById(target))) throw new ApiError('HB_API_NOT_FOUND', 'no such user');
    await accounts.block(user.id, target, Date.now());
    // A block ends follows both ways.
    await opts.follows?.unlink(user.id, target);
    return reply.status(204).send(null);
  });

  app.delete('/blocks/:userId', {
    schema: { tags: ['me'], summary: 'Unblock a user', ...secured, params: Type.Object({ userId: UserId }), response: { 204: Type.Null(), ...errorResponses(401, 404) } },
  }, async (req, reply) => {
    const { user } = await me(req);
    if (!(await accounts.unblock(user.id, req.params.userId))) throw new ApiError('HB_API_NOT_FOUND', 'not blocked');
    return reply.status(204).send(null);
  });

  app.post('/mfa/enroll', {
    schema: {
      tags: ['me'], summary: 'Start TOTP enrolment: scan the QR code or add the otpauth URI to an authenticator', ...secured,
      response: { 200: Type.Object({ secret: Type.String(), otpauthUri: Type.String(), qrCodeDataUrl: Type.String() }), ...errorResponses(401, 409) },
    },
  }, async (req) => auth.enrollMfa(claimsOf(req), clientOf(req)));

  app.post('/mfa/activate', {
    schema: {
      tags: ['me'], summary: 'Confirm enrolment with a first code; returns ten one-time backup codes (shown once)', ...secured,
      body: Type.Object({ code: Type.String({ pattern: '^[0-9]{6}$' }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ backupCodes: Type.Array(Type.String()) }), ...errorResponses(400, 401, 409) },
    },
  }, async (req) => auth.activateMfa(claimsOf(req), req.body.code, clientOf(req)));

  app.post('/mfa/disable', {
    schema: {
      tags: ['me'], summary: 'Turn MFA off (needs a valid code)', ...secured,
      body: Type.Object({ code: Code }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errorResponses(400, 401, 409) },
    },
  }, async (req, reply) => {
    await auth.disableMfa(claimsOf(req), req.body.code, clientOf(req));
    return reply.status(204).send(null);
  });
};
