/**
 * Privacy over HTTP (docs/privacy.md): a user's consents (analytics, marketing notifications, the CCPA
 * "do not sell or share" flag, acceptance of the current terms and privacy policy) and, for staff, a
 * user's whole consent history for audits (JSON or CSV); the export of everything held about a user
 * (a signed, expiring download link), and closing an account for erasure, with restore in the grace period.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ConsentService } from '../../privacy/consent-service';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';
import type { AuthService } from '../auth-service';
import type { ExportService } from '../../privacy/export-service';
import type { ErasureService } from '../../privacy/erasure-service';
import { clientOf } from './auth';

export interface PrivacyPluginOptions {
  readonly consents: ConsentService;
  /** Export and erasure; absent where the server runs without them (unit tests of consents). */
  readonly rights?: { readonly exports: ExportService; readonly erasure: ErasureService; readonly auth: AuthService };
  /** The rate limit of routes that check a password (set by the app, as for sign-in). */
  readonly signInPerMinute?: number;
}

const ExportBody = Type.Object({
  id: Type.String(),
  status: Type.Union([Type.Literal('pending'), Type.Literal('ready'), Type.Literal('failed'), Type.Literal('expired')]),
  createdAt: Type.Integer(),
  readyAt: Type.Union([Type.Integer(), Type.Null()]),
  expiresAt: Type.Union([Type.Integer(), Type.Null()], { description: 'when the link stops working and the archive is deleted' }),
  bytes: Type.Union([Type.Integer(), Type.Null()]),
  url: Type.Union([Type.String(), Type.Null()], { description: 'the download link, a path on this API (no token needed: it is signed); null until ready' }),
});

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

  if (opts.rights) {
    const { exports, erasure, auth } = opts.rights;
    app.post('/v1/me/export', {
      schema: {
        tags: ['privacy'], summary: 'Ask for an archive of everything held about you (one a day)', security: [{ bearer: [] }],
        description: 'Built in the background: poll GET /v1/me/exports until `url` is set. A second request within the window answers 429 HB_API_EXPORT_LIMIT with the existing export in `detail.export`.',
        response: { 202: ExportBody, ...errorResponses(401, 429) },
      },
    }, async (req, reply) => reply.status(202).send(await exports.request(claimsOf(req).sub)));

    app.get('/v1/me/exports', {
      schema: { tags: ['privacy'], summary: 'Your exports, newest first', security: [{ bearer: [] }], response: { 200: Type.Object({ exports: Type.Array(ExportBody) }), ...errorResponses(401) } },
    }, async (req) => ({ exports: await exports.list(claimsOf(req).sub) }));

    app.get('/v1/exports/:id/download', {
      schema: {
        tags: ['privacy'], summary: 'Download an export archive (a zip of JSON files and a README) by its signed link',
        params: Type.Object({ id: Type.String({ pattern: '^[0-9a-f-]{36}$' }) }),
        querystring: Type.Object({ expires: Type.String({ pattern: '^[0-9]{1,16}$' }), sig: Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' }) }),
        produces: ['application/zip'],
      },
    }, async (req, reply) => {
      const file = await exports.open(req.params.id, Number(req.query.expires), req.query.sig);
      return reply.type('application/zip').header('content-length', String(file.bytes)).header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="halobuzz-export-${req.params.id}.zip"`).send(Buffer.from(file.zip.buffer, file.zip.byteOffset, file.zip.byteLength));
    });

    app.delete('/v1/me', {
      schema: {
        tags: ['privacy'], summary: 'Close your account; it is erased after the grace period unless you restore it', security: [{ bearer: [] }],
        description: 'Confirm with your password or a current MFA code. At once: every session ends (sockets close), sign-in is refused (HB_API_ACCOUNT_DEACTIVATED), your live room ends and you leave follower lists. At `eraseAfter` your data is erased from every store (docs/privacy.md).',
        body: Type.Object({ password: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), code: Type.Optional(Type.String({ pattern: '^[0-9a-f]{6,12}$' })) }, { additionalProperties: false, minProperties: 1 }),
        response: { 202: Type.Object({ closed: Type.Literal(true), eraseAfter: Type.Integer() }), ...errorResponses(400, 401, 429) },
      },
    }, async (req, reply) => {
      const user = await auth.confirm(claimsOf(req).sub, req.body, clientOf(req));
      return reply.status(202).send({ closed: true as const, ...(await erasure.close(user.id)) });
    });

    app.post('/v1/auth/restore', {
      config: { rateLimit: { max: opts.signInPerMinute ?? 60, timeWindow: 60_000 } },
      schema: {
        tags: ['privacy'], summary: 'Reopen your closed account before it is erased, then sign in as usual',
        body: Type.Object({
          email: Type.String({ format: 'email', maxLength: 254 }), password: Type.String({ minLength: 1, maxLength: 200 }),
          code: Type.Optional(Type.String({ pattern: '^[0-9a-f]{6,12}$', description: 'an MFA code, when MFA is on' })),
        }, { additionalProperties: false }),
        response: { 200: Type.Object({ restored: Type.Literal(true) }), ...errorResponses(400, 401, 409, 429) },
      },
    }, async (req) => {
      await erasure.restore(await auth.verifyOwner(req.body, clientOf(req)));
      return { restored: true as const };
    });
  }

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
