/**
 * Moderation over HTTP (docs/moderation.md): users report users, rooms, chat messages and DMs and appeal
 * decisions about them; staff (role admin) work the review queue, suspend accounts, shadow-mute, end live
 * rooms, act in rooms, and read the audit log. Room moderation by hosts and moderators is realtime
 * (docs/protocol.md § Moderation).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Report } from '../../adapters/moderation/moderation-store';
import type { ModerationStore } from '../../adapters/moderation/moderation-store';
import { RESOLUTIONS, type ModerationService, type ReportInput, type ResolutionAction } from '../../moderation/moderation-service';
import { MAX_BAN_SEC, MAX_MUTE_SEC, MAX_SLOW_SEC, MOD_ACTIONS, STRICTNESS } from '../../protocol/requests';
import { ApiError } from '../errors';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';

export interface ModerationPluginOptions {
  readonly service: ModerationService;
  readonly store: ModerationStore;
}

const Id = Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' });
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const Duration = Type.Union([Type.Integer({ minimum: 60, maximum: 10 * 365 * 86_400 }), Type.Null()], { description: 'seconds; null: until lifted' });

const ReportView = Type.Object({
  id: Type.String(), status: Type.String({ description: 'open, claimed, resolved, appealed, closed' }), reason: Type.String(), text: Type.String(),
  target: Type.Object({ kind: Type.String(), user: Type.Union([Type.String(), Type.Null()]), room: Type.Optional(Type.String()), seq: Type.Optional(Type.Integer()) }),
  snapshot: Type.Record(Type.String(), Type.Unknown(), { description: 'the reported content as it was when first reported' }),
  reporters: Type.Integer({ description: 'how many people reported it' }), priority: Type.Integer({ description: '1 urgent … 3 low' }),
  claimedBy: Type.Union([Type.String(), Type.Null()]),
  resolution: Type.Union([Type.Object({ action: Type.String(), reason: Type.String(), by: Type.String(), at: Type.Integer(), until: Type.Optional(Type.Integer()) }), Type.Null()]),
  appeal: Type.Union([Type.Object({ text: Type.String(), at: Type.Integer(), decision: Type.Optional(Type.String()), by: Type.Optional(Type.String()), decidedAt: Type.Optional(Type.Integer()), note: Type.Optional(Type.String()) }), Type.Null()]),
  notes: Type.Array(Type.Object({ by: Type.String(), text: Type.String(), at: Type.Integer() })),
  createdAt: Type.Integer(), updatedAt: Type.Integer(),
});
const view = (r: Report) => ({
  id: r.id, status: r.status, reason: r.reason, text: r.text, target: { ...r.target }, snapshot: r.snapshot, reporters: r.reporters.length, priority: r.priority,
  claimedBy: r.claimedBy, resolution: r.resolution ? { ...r.resolution } : null, appeal: r.appeal ? { ...r.appeal } : null, notes: r.notes.map((n) => ({ ...n })),
  createdAt: r.createdAt, updatedAt: r.updatedAt,
});

/** What the reported user may see of a decision: not who reported them, not staff notes. */
const DecisionView = Type.Object({
  id: Type.String(), reason: Type.String(), target: Type.Object({ kind: Type.String(), room: Type.Optional(Type.String()), seq: Type.Optional(Type.Integer()) }),
  action: Type.String(), until: Type.Union([Type.Integer(), Type.Null()]), decidedAt: Type.Integer(), appealable: Type.Boolean(),
  appeal: Type.Union([Type.Object({ text: Type.String(), at: Type.Integer(), decision: Type.Optional(Type.String()) }), Type.Null()]),
});

export const moderationPlugin: FastifyPluginAsyncTypebox<ModerationPluginOptions> = async (app, opts) => {
  const s = opts.service;

  app.get('/v1/reports/reasons', {
    schema: { tags: ['moderation'], summary: 'The reasons a report may give, with their review priority (1 urgent … 3 low)',
      response: { 200: Type.Object({ reasons: Type.Array(Type.Object({ id: Type.String(), label: Type.String(), priority: Type.Integer() })) }) } },
  }, async () => ({ reasons: s.reasons }));

  app.post('/v1/reports', {
    schema: {
      tags: ['moderation'], summary: 'Report a user, a room, a chat message or a DM you received; what it looks like now is kept with the report', security: [{ bearer: [] }],
      body: Type.Object({
        target: Type.Union([
          Type.Object({ kind: Type.Literal('user'), user: Id }, { additionalProperties: false }),
          Type.Object({ kind: Type.Literal('room'), room: Id }, { additionalProperties: false }),
          Type.Object({ kind: Type.Literal('message'), room: Id, seq: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
          Type.Object({ kind: Type.Literal('dm'), from: Id, id: Type.Integer({ minimum: 1 }), text: Type.Optional(Type.String({ minLength: 1, maxLength: 2000 })) }, { additionalProperties: false }),
        ]),
        reason: Type.String({ pattern: '^[a-z_]{1,32}$', description: 'one of GET /v1/reports/reasons' }),
        text: Type.Optional(Type.String({ maxLength: 1000 })),
      }, { additionalProperties: false }),
      response: {
        201: Type.Object({ id: Type.String(), status: Type.String(), merged: Type.Boolean({ description: 'an open report of the same target existed: yours joined it' }) }),
        ...errorResponses(400, 401, 404, 429),
      },
    },
  }, async (req, reply) => {
    const { report, merged } = await s.report(claimsOf(req).sub, req.body.target as ReportInput, req.body.reason, req.body.text ?? '');
    return reply.code(201).send({ id: report.id, status: report.status, merged });
  });

  app.get('/v1/me/moderation', {
    schema: {
      tags: ['moderation'], summary: 'Decisions about you (actions taken on reports) and a suspension in force', security: [{ bearer: [] }],
      response: { 200: Type.Object({ suspension: Type.Union([Type.Object({ until: Type.Integer(), reason: Type.String() }), Type.Null()]), decisions: Type.Array(DecisionView) }), ...errorResponses(401) },
    },
  }, async (req) => {
    const { suspension, decisions } = await s.about(claimsOf(req).sub);
    return {
      suspension: suspension ? { until: suspension.until, reason: suspension.reason } : null,
      decisions: decisions.map((r) => ({
        id: r.id, reason: r.reason, target: { kind: r.target.kind, ...(r.target.room ? { room: r.target.room } : {}), ...(r.target.seq ? { seq: r.target.seq } : {}) },
        action: r.resolution!.action, until: r.resolution!.until ?? null, decidedAt: r.resolution!.at, appealable: r.status === 'resolved',
        appeal: r.appeal ? { text: r.appeal.text, at: r.appeal.at, ...(r.appeal.decision ? { decision: r.appeal.decision } : {}) } : null,
      })),
    };
  });

  app.post('/v1/reports/:id/appeal', {
    schema: {
      tags: ['moderation'], summary: 'Appeal a decision about you (once); staff review it', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }), body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
      response: { 200: Type.Object({ id: Type.String(), status: Type.String() }), ...errorResponses(400, 401, 404, 409) },
    },
  }, async (req) => {
    const r = await s.appeal(claimsOf(req).sub, req.params.id, req.body.text);
    return { id: r.id, status: r.status };
  });

  // ---- staff (role admin) ----
  const staff = { roles: ['admin'] as const };
  const staffOf = (req: Parameters<typeof claimsOf>[0]) => claimsOf(req).sub;

  app.get('/v1/admin/reports', {
    config: staff,
    schema: {
      tags: ['moderation'], summary: 'The review queue: reports by status, most urgent then oldest first (role admin)', security: [{ bearer: [] }],
      querystring: Type.Object({
        status: Type.Optional(Type.Union(['open', 'claimed', 'resolved', 'appealed', 'closed'].map((v) => Type.Literal(v)))),
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })), after: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ reports: Type.Array(ReportView), next: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 401, 403) },
    },
  }, async (req) => {
    const limit = Number(req.query.limit ?? 50);
    const list = await opts.store.reports({ status: (req.query.status ?? 'open') as Report['status'], limit, ...(req.query.after ? { after: req.query.after } : {}) });
    return { reports: list.map(view), next: list.length === limit ? list.at(-1)!.id : null };
  });

  app.get('/v1/admin/reports/:id', {
    config: staff,
    schema: { tags: ['moderation'], summary: 'One report with its snapshot, notes and history (role admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }), response: { 200: ReportView, ...errorResponses(401, 403, 404) } },
  }, async (req) => {
    const r = await opts.store.report(req.params.id);
    if (!r) throw new ApiError('HB_API_NOT_FOUND', 'no such report');
    return view(r);
  });

  app.post('/v1/admin/reports/:id/claim', {
    config: staff,
    schema: { tags: ['moderation'], summary: 'Take a report to review (one reviewer at a time) (role admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }), response: { 200: ReportView, ...errorResponses(401, 403, 404, 409) } },
  }, async (req) => view(await s.claim(staffOf(req), req.params.id)));

  app.post('/v1/admin/reports/:id/notes', {
    config: staff,
    schema: { tags: ['moderation'], summary: 'Add a note to a report (role admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }), body: Type.Object({ text: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false }),
      response: { 200: ReportView, ...errorResponses(400, 401, 403, 404) } },
  }, async (req) => view(await s.note(staffOf(req), req.params.id, req.body.text)));

  app.post('/v1/admin/reports/:id/resolve', {
    config: staff,
    schema: {
      tags: ['moderation'], summary: 'Resolve a report with an action, which is applied and audited (role admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }),
      body: Type.Object({
        action: Type.Union(RESOLUTIONS.map((a) => Type.Literal(a)), { description: 'dismiss (any); delete_message, ban_from_room (a message); shadow_mute (user, message, dm); suspend (any: the reported user); end_room (a room)' }),
        reason: Reason, durationSec: Type.Optional(Duration), devices: Type.Optional(Type.Boolean({ description: 'suspend, ban_from_room: cover the install ids the user was seen with' })),
      }, { additionalProperties: false }),
      response: { 200: ReportView, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (req) => {
    const b = req.body;
    return view(await s.resolve(staffOf(req), req.params.id, b.action as ResolutionAction, b.reason, { ...(b.durationSec ? { durationSec: b.durationSec } : {}), ...(b.devices ? { devices: true } : {}) }));
  });

  app.post('/v1/admin/reports/:id/appeal-decision', {
    config: staff,
    schema: {
      tags: ['moderation'], summary: 'Decide an appeal: uphold the action, or overturn it (suspensions, shadow mutes and room bans are lifted) (role admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }), body: Type.Object({ uphold: Type.Boolean(), note: Reason }, { additionalProperties: false }),
      response: { 200: ReportView, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (req) => view(await s.decideAppeal(staffOf(req), req.params.id, req.body.uphold, req.body.note)));

  app.post('/v1/admin/users/:id/suspension', {
    config: staff,
    schema: {
      tags: ['moderation'], summary: 'Suspend an account: its sessions end now and sign-in is refused until the end (role admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }), body: Type.Object({ reason: Reason, durationSec: Duration, devices: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      response: { 200: Type.Object({ user: Type.String(), until: Type.Integer({ description: '0: permanent' }), devices: Type.Integer() }), ...errorResponses(400, 401, 403, 404) },
    },
  }, async (req) => {
    const susp = await s.suspend(staffOf(req), req.params.id, req.body.reason, req.body.durationSec, req.body.devices === true);
    return { user: susp.user, until: susp.until, devices: susp.devices.length };
  });

  app.delete('/v1/admin/users/:id/suspension', {
    config: staff,
    schema: { tags: ['moderation'], summary: 'Lift a suspension (role admin)', security: [{ bearer: [] }], params: Type.Object({ id: Id }),
      querystring: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }), response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) } },
  }, async (req, reply) => {
    await s.lift(staffOf(req), req.params.id, req.query.reason);
    return reply.code(204).send(null);
  });

  app.post('/v1/admin/users/:id/shadow-mute', {
    config: staff,
    schema: {
      tags: ['moderation'], summary: "Shadow-mute a user everywhere: their chat is shown only to themselves (role admin)", security: [{ bearer: [] }],
      params: Type.Object({ id: Id }), body: Type.Object({ reason: Reason, durationSec: Duration }, { additionalProperties: false }),
      response: { 200: Type.Object({ user: Type.String(), until: Type.Integer({ description: '0: until lifted' }) }), ...errorResponses(400, 401, 403) },
    },
  }, async (req) => ({ user: req.params.id, until: await s.shadowMute(staffOf(req), req.params.id, req.body.reason, req.body.durationSec) }));

  app.delete('/v1/admin/users/:id/shadow-mute', {
    config: staff,
    schema: { tags: ['moderation'], summary: 'Lift a shadow mute (role admin)', security: [{ bearer: [] }], params: Type.Object({ id: Id }),
      querystring: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }), response: { 204: Type.Null(), ...errorResponses(400, 401, 403) } },
  }, async (req, reply) => {
    await s.unshadowMute(staffOf(req), req.params.id, req.query.reason);
    return reply.code(204).send(null);
  });

  app.post('/v1/admin/rooms/:id/end', {
    config: staff,
    schema: { tags: ['moderation'], summary: "End a room's live stream (role admin)", security: [{ bearer: [] }], params: Type.Object({ id: Id }),
      body: Type.Object({ reason: Reason }, { additionalProperties: false }), response: { 202: Type.Object({ room: Type.String() }), ...errorResponses(400, 401, 403, 404) } },
  }, async (req, reply) => {
    await s.endRoom(staffOf(req), req.params.id, req.body.reason);
    return reply.code(202).send({ room: req.params.id });
  });

  app.post('/v1/admin/rooms/:id/moderation', {
    config: staff,
    schema: {
      tags: ['moderation'], summary: 'A room moderation action by staff, applied by the room as a MOD request would be (role admin)', security: [{ bearer: [] }],
      params: Type.Object({ id: Id }),
      body: Type.Object({
        action: Type.Union(MOD_ACTIONS.filter((a) => a !== 'state').map((a) => Type.Literal(a))),
        args: Type.Array(Type.Union([Type.String({ maxLength: 64 }), Type.Integer(), Type.Boolean()]), { maxItems: 3, description: `as MOD's arguments (docs/protocol.md § Moderation): mute seconds ≤ ${MAX_MUTE_SEC}, ban seconds ≤ ${MAX_BAN_SEC}, slow ≤ ${MAX_SLOW_SEC}, filter ${STRICTNESS.join('/')}` }),
        reason: Reason,
      }, { additionalProperties: false }),
      response: { 202: Type.Object({ room: Type.String(), action: Type.String() }), ...errorResponses(400, 401, 403) },
    },
  }, async (req, reply) => {
    await s.roomModerate(staffOf(req), req.params.id, req.body.action, req.body.args, req.body.reason);
    return reply.code(202).send({ room: req.params.id, action: req.body.action });
  });

  app.get('/v1/admin/audit', {
    config: staff,
    schema: {
      tags: ['moderation'], summary: 'The moderation audit log, newest first: who did what, to whom, why (role admin)', security: [{ bearer: [] }],
      querystring: Type.Object({
        target: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,80}$' })), actor: Type.Optional(Id),
        before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })), limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({ entries: Type.Array(Type.Object({ id: Type.String(), at: Type.Integer(), actor: Type.String(), action: Type.String(), target: Type.String(), reason: Type.String(), detail: Type.String() })) }),
        ...errorResponses(400, 401, 403),
      },
    },
  }, async (req) => {
    const q = req.query;
    return { entries: await opts.store.auditLog({ ...(q.target ? { target: q.target } : {}), ...(q.actor ? { actor: q.actor } : {}), ...(q.before ? { before: Number(q.before) } : {}), limit: Number(q.limit ?? 50) }) };
  });
};
