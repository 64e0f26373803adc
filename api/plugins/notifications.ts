/**
 * Notifications over HTTP: the in-app list (newest first, cursor paging, unread count) and read marks,
 * notification settings (kinds, muted creators, quiet hours in your time zone, a global off; security
 * notifications cannot be switched off), and push devices (one record per token; signing a session out
 * removes the devices it registered). docs/notifications.md describes kinds, settings and delivery.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { NotificationStore } from '../../adapters/notifications/notification-store';
import { BadCursorError } from '../../adapters/social/follow-store';
import { DEFAULT_SETTINGS, OPTIONAL_KINDS, validQuietHours, type NotificationSettings } from '../../notify/preferences';
import type { Templates } from '../../notify/templates';
import { ApiError } from '../errors';
import { errorResponses } from '../schemas';
import { pickLocale } from '../../i18n/locales';
import { claimsOf } from '../auth-hook';

export interface NotificationsPluginOptions {
  readonly store: NotificationStore;
  readonly templates: Templates;
  /** The app reports that the user opened a notification (analytics `push_opened`). */
  readonly onOpened?: (e: { user: string; id: string; kind: string; platform: string | null }) => void;
  readonly now?: () => number;
}

const Id = Type.String({ pattern: '^[A-Za-z0-9_:.>@-]{1,200}$' });
const Kinds = Type.Object(Object.fromEntries(OPTIONAL_KINDS.map((k) => [k, Type.Boolean()])) as Record<(typeof OPTIONAL_KINDS)[number], ReturnType<typeof Type.Boolean>>, { additionalProperties: false });
const Settings = Type.Object({
  enabled: Type.Boolean({ description: 'false: nothing but security notifications' }),
  kinds: Kinds,
  mutedCreators: Type.Array(Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' }), { maxItems: 1000 }),
  quietHours: Type.Union([Type.Object({
    start: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }), end: Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' }),
    timeZone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, e.g. Asia/Kathmandu' }),
  }, { additionalProperties: false }), Type.Null()], { description: 'inside these hours notifications are listed in the app but not pushed' }),
}, { additionalProperties: false });
const Notification = Type.Object({
  id: Type.String(), kind: Type.String(), title: Type.String(), body: Type.String(), data: Type.Record(Type.String(), Type.Union([Type.String(), Type.Number()])),
  createdAt: Type.Integer(), readAt: Type.Union([Type.Integer(), Type.Null()]),
});
const Platform = Type.Union([Type.Literal('fcm'), Type.Literal('apns'), Type.Literal('expo'), Type.Literal('webpush')]);
const Device = Type.Object({ token: Type.String(), platform: Platform, appVersion: Type.String(), locale: Type.String(), createdAt: Type.Integer() });

const view = (s: NotificationSettings) => ({ ...s, kinds: { ...s.kinds }, mutedCreators: [...s.mutedCreators], quietHours: s.quietHours ? { ...s.quietHours } : null });

export const notificationsPlugin: FastifyPluginAsyncTypebox<NotificationsPluginOptions> = async (app, opts) => {
  const { store, templates } = opts;
  const now = opts.now ?? Date.now;
  const secured = { security: [{ bearer: [] }] };

  app.get('/v1/notifications', {
    schema: {
      tags: ['notifications'], summary: 'Your notifications, newest first (cursor paging), with the unread count', ...secured,
      querystring: Type.Object({
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })), after: Type.Optional(Type.String({ pattern: '^[0-9a-z]{1,11}$' })),
        locale: Type.Optional(Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$', description: 'texts in this language; else Accept-Language; English when neither is shipped (docs/i18n.md)' })),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          items: Type.Array(Notification), next: Type.Union([Type.String(), Type.Null()]), unread: Type.Integer(),
          locale: Type.String({ description: 'the language the texts are in' }), dir: Type.Union([Type.Literal('ltr'), Type.Literal('rtl')], { description: 'their direction (Arabic: rtl)' }),
        }),
        ...errorResponses(400, 401),
      },
    },
  }, async (req) => {
    try {
      const page = await store.list(claimsOf(req).sub, { limit: Number(req.query.limit ?? 50), ...(req.query.after ? { after: req.query.after } : {}) });
      const locale = pickLocale(req.query.locale, req.headers['accept-language']);
      return {
        ...page, locale, dir: templates.dir(locale),
        items: page.items.map((n) => ({ id: n.id, kind: n.kind, ...templates.render(n.kind, n.data, locale), data: n.data, createdAt: n.createdAt, readAt: n.readAt })),
      };
    } catch (err) {
      if (err instanceof BadCursorError) throw new ApiError('HB_API_VALIDATION', err.message);
      throw err;
    }
  });

  app.post('/v1/notifications/read', {
    schema: {
      tags: ['notifications'], summary: 'Mark notifications read: the given ids, or all of them when `ids` is left out', ...secured,
      body: Type.Object({ ids: Type.Optional(Type.Array(Id, { minItems: 1, maxItems: 500 })) }, { additionalProperties: false }),
      response: { 200: Type.Object({ marked: Type.Integer() }), ...errorResponses(400, 401) },
    },
  }, async (req) => ({ marked: await store.markRead(claimsOf(req).sub, now(), req.body.ids) }));

  app.post('/v1/notifications/:id/opened', {
    schema: {
      tags: ['notifications'], summary: 'The app reports that you opened this notification (from a push or the list): it is marked read and counted', ...secured,
      params: Type.Object({ id: Id }),
      body: Type.Object({ platform: Type.Optional(Type.Union([Type.Literal('fcm'), Type.Literal('apns'), Type.Literal('expo'), Type.Literal('webpush'), Type.Literal('inapp')])) }, { additionalProperties: false }),
      response: { 204: Type.Null(), ...errorResponses(400, 401, 404) },
    },
  }, async (req, reply) => {
    const user = claimsOf(req).sub;
    const n = await store.get(user, req.params.id);
    if (!n) throw new ApiError('HB_API_NOT_FOUND', 'no such notification of yours');
    await store.markRead(user, now(), [n.id]);
    opts.onOpened?.({ user, id: n.id, kind: n.kind, platform: req.body.platform ?? null });
    return reply.status(204).send(null);
  });

  app.get('/v1/me/notification-settings', {
    schema: { tags: ['notifications'], summary: 'Your notification settings (defaults until you change them)', ...secured, response: { 200: Settings, ...errorResponses(401) } },
  }, async (req) => view((await store.settings(claimsOf(req).sub)) ?? DEFAULT_SETTINGS));

  app.put('/v1/me/notification-settings', {
    schema: { tags: ['notifications'], summary: 'Replace your notification settings (security notifications stay on whatever you set)', ...secured, body: Settings, response: { 200: Settings, ...errorResponses(400, 401) } },
  }, async (req) => {
    const s = req.body as NotificationSettings;
    if (s.quietHours && !validQuietHours(s.quietHours)) throw new ApiError('HB_API_VALIDATION', 'quietHours needs different start and end times and a known IANA time zone');
    await store.saveSettings(claimsOf(req).sub, s);
    return view(s);
  });

  app.post('/v1/me/devices', {
    schema: {
      tags: ['notifications'], summary: 'Register this device for push (one record per token; signing this session out removes it)', ...secured,
      body: Type.Object({
        platform: Platform, token: Type.String({ minLength: 8, maxLength: 4096 }), appVersion: Type.String({ pattern: '^[A-Za-z0-9_. -]{1,32}$' }),
        locale: Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$' }),
      }, { additionalProperties: false }),
      response: { 201: Device, ...errorResponses(400, 401) },
    },
  }, async (req, reply) => {
    const claims = claimsOf(req);
    const d = { ...req.body, user: claims.sub, sid: claims.sid, createdAt: now() };
    await store.registerDevice(d);
    return reply.status(201).send({ token: d.token, platform: d.platform, appVersion: d.appVersion, locale: d.locale, createdAt: d.createdAt });
  });

  app.get('/v1/me/devices', {
    schema: { tags: ['notifications'], summary: 'Your registered push devices', ...secured, response: { 200: Type.Object({ devices: Type.Array(Device) }), ...errorResponses(401) } },
  }, async (req) => ({ devices: (await store.devices(claimsOf(req).sub)).map((d) => ({ token: d.token, platform: d.platform, appVersion: d.appVersion, locale: d.locale, createdAt: d.createdAt })) }));

  app.delete('/v1/me/devices/:token', {
    schema: { tags: ['notifications'], summary: 'Remove a push device', ...secured, params: Type.Object({ token: Type.String({ minLength: 8, maxLength: 4096 }) }), response: { 204: Type.Null(), ...errorResponses(401, 404) } },
  }, async (req, reply) => {
    if (!(await store.removeDevice(claimsOf(req).sub, req.params.token))) throw new ApiError('HB_API_NOT_FOUND', 'no such device of yours');
    return reply.status(204).send(null);
  });
};
