/** Admin-only: the security event log (sign-ins, failures, lockouts, MFA changes, token reuse). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AccountStore } from '../../adapters/accounts/account-store';
import { errorResponses } from '../schemas';

export const adminPlugin: FastifyPluginAsyncTypebox<{ accounts: AccountStore }> = async (app, opts) => {
  app.get('/security-events', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['admin'], summary: 'Security events, newest first (role admin)', security: [{ bearer: [] }],
      querystring: Type.Object({
        userId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' })), type: Type.Optional(Type.String({ pattern: '^[a-z_]{1,40}$' })),
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,12}$' })), limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ events: Type.Array(Type.Object({ id: Type.Integer(), ts: Type.Integer(), userId: Type.Union([Type.String(), Type.Null()]), type: Type.String(), ip: Type.String(), detail: Type.String() })) }),
        ...errorResponses(400, 401, 403),
      },
    },
  }, async (req) => {
    const q = req.query;
    return { events: await opts.accounts.events({ ...(q.userId ? { userId: q.userId } : {}), ...(q.type ? { type: q.type } : {}), ...(q.before ? { before: Number(q.before) } : {}), limit: Number(q.limit ?? 50) }) };
  });
};
