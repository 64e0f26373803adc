/**
 * Privacy over HTTP (docs/privacy.md): a user's consents (analytics, marketing notifications, the CCPA
 * "do not sell or share" flag, acceptance of the current terms and privacy policy) and, for staff, a
 * user's whole consent history for audits (JSON or CSV).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ConsentService } from '../../privacy/consent-service';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';

export interface PrivacyPluginOptions {
  readonly consents: ConsentService;
}

const Choice = Type.Object({ granted: Type.Boolean(), at: Type.Union([Type.Integer(), Type.Null()], { description: 'when you chose (null: the server default applies)' }) });
const Doc = Type.Object({ version: Type.String(), url: Type.String(), accepted: Type.Union([Type.String(), Type.Null()]), at: Type.Union([Type.Integer(), Type.Null()]) });
const View = Type.Object({
  choices: Type.Object({ analytics: Choice, marketing: Choice, do_not_sell: Choice }),
  documents: Type.Object({ terms: Doc, privacy: Doc }),
  needsAcceptance: Type.Array(Type.String(), { description: 'documents whose current version you have not accepted' }),
});
const Version = Type.String({ pattern: '^[A-Za-z0-9._-]{1,32}$' });

export const privacyPlugin: FastifyPluginAsyncTypebox<PrivacyPluginOptions> = async (app, opts) => {
  app.get('/v1/me/consents', {
    schema: { tags: ['privacy'], summary: 'Your consents and the documents to accept', security: [{ bearer: [] }], response: { 200: View, ...errorResponses(401) } },
  }, async (req) => opts.consents.view(claimsOf(req).sub));

  app.put('/v1/me/consents', {
    schema: {
      tags: ['privacy'], summary: 'Change your consents; accept the current terms or privacy policy (each change is recorded with its time and version)', security: [{ bearer: [] }],
      body: Type.Object({
        analytics: Type.Optional(Type.Boolean({ description: 'false: none of your activity is recorded for analytics, from now on' })),
        marketing: Type.Optional(Type.Boolean()),
        doNotSell: Type.Optional(Type.Boolean({ description: 'CCPA: do not sell or share my personal information' })),
        terms: Type.Optional(Version), privacy: Type.Optional(Version),
      }, { additionalProperties: false, minProperties: 1 }),
      response: { 200: View, ...errorResponses(400, 401) },
    },
  }, async (req) => opts.consents.change(claimsOf(req).sub, req.body, 'api'));

  const UserParam = Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' }) });
  const history = async (user: string) => (await opts.consents.history(user)).map((r) => ({ kind: r.kind, granted: r.granted, version: r.version, at: r.at, source: r.source }));

  app.get('/v1/admin/users/:id/consents', {
    config: { roles: ['admin'] },
    schema: {
      tags: ['privacy'], summary: "A user's consent history for an audit, oldest first (role admin)", security: [{ bearer: [] }], params: UserParam,
      response: {
        200: Type.Object({ user: Type.String(), records: Type.Array(Type.Object({ kind: Type.String(), granted: Type.Boolean(), version: Type.String(), at: Type.Integer(), source: Type.String() })) }),
        ...errorResponses(400, 401, 403),
      },
    },
  }, async (req) => ({ user: req.params.id, records: await history(req.params.id) }));

  app.get('/v1/admin/users/:id/consents.csv', {
    config: { roles: ['admin'] },
    schema: { tags: ['privacy'], summary: 'The same history as CSV, for a spreadsheet (role admin)', security: [{ bearer: [] }], params: UserParam, produces: ['text/csv'] },
  }, async (req, reply) => {
    const lines = ['at,iso_time,kind,granted,version,source', ...(await history(req.params.id)).map((r) => [r.at, new Date(r.at).toISOString(), r.kind, r.granted, r.version, r.source].join(','))];
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="consents-${req.params.id}.csv"`).send(`${lines.join('\n')}\n`);
  });
};
