/**
 * Live rooms: a creator starts a stream (creating the room) and ends it; anyone lists live rooms by viewer
 * count (from the socket side) with paging and optional country/locale filters, or reads one room.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { randomUUID } from 'node:crypto';
import { Type } from 'typebox';
import type { RoomDirectory, RoomListing } from '../../adapters/rooms/room-directory';
import type { AccountStore } from '../../adapters/accounts/account-store';
import type { MediaTokenIssuer } from '../../adapters/media/media-token-issuer';
import { ApiError } from '../errors';
import { errorResponses } from '../schemas';
import { claimsOf } from '../auth-hook';
import type { RealtimeBridge } from '../../adapters/bridge/realtime-bridge';
import type { CountryLookup } from '../../adapters/geo/country-lookup';
import { agoraAreaOf } from '../../adapters/geo/agora-area';


const Room = Type.Object({
  id: Type.String(), owner: Type.String(), title: Type.String(), country: Type.Union([Type.String(), Type.Null()]),
  locale: Type.Union([Type.String(), Type.Null()]), live: Type.Boolean(), startedAt: Type.Integer(),
  endedAt: Type.Union([Type.Integer(), Type.Null()]), viewers: Type.Integer(),
  nodes: Type.Array(Type.String(), { description: 'socket URLs to prefer for this room: the nodes already serving its viewers, most viewers first (empty: any node). Connecting there gathers a room\'s viewers on few nodes (docs/cluster.md § Placement)' }),
  allowedCountries: Type.Union([Type.Array(Type.String()), Type.Null()], { description: 'where the room is available (null: everywhere)' }),
});
const Country = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' });
const Locale = Type.String({ pattern: '^[a-z]{2,3}(-[A-Z]{2})?$', description: 'BCP 47, e.g. ne-NP' });

export const roomsPlugin: FastifyPluginAsyncTypebox<{
  directory: RoomDirectory; realtime: RealtimeBridge; owners: { record(room: string, owner: string): Promise<void> }; accounts: AccountStore; media: MediaTokenIssuer | null;
  /** The country of a request's address (docs/regions.md); without it region-restricted rooms are shown to nobody but their host. */
  geo?: CountryLookup | null;
}> = async (app, opts) => {
  const withViewers = async (rooms: RoomListing[]) => {
    const presence = await opts.realtime.roomPresence(rooms.filter((r) => r.live).map((r) => r.id));
    return rooms.map((r) => {
      const p = r.live ? presence.get(r.id) : undefined;
      return { ...r, allowedCountries: r.allowedCountries ? [...r.allowedCountries] : null, viewers: p?.viewers ?? 0, nodes: [...(p?.nodes ?? [])] };
    });
  };
  const view = async (r: RoomListing) => (await withViewers([r]))[0]!;

  app.post('', {
    schema: {
      tags: ['rooms'], summary: 'Start a live stream (creates the room); join it over the socket as host. One live room per host: 409 HB_API_ALREADY_LIVE while another is live', security: [{ bearer: [] }],
      body: Type.Object({
        title: Type.String({ minLength: 1, maxLength: 100 }), country: Type.Optional(Country), locale: Type.Optional(Locale),
        allowedCountries: Type.Optional(Type.Array(Country, { minItems: 1, maxItems: 50, uniqueItems: true, description: 'make the room available only there: hidden from discovery and refused on JOIN (REGION_RESTRICTED) elsewhere' })),
      }, { additionalProperties: false }),
      response: { 201: Room, ...errorResponses(400, 401, 409) },
    },
  }, async (req, reply) => {
    const claims = claimsOf(req);
    const body = req.body;
    const room: RoomListing = {
      id: `r_${randomUUID().replace(/-/g, '').slice(0, 16)}`, owner: claims.sub, title: body.title.trim(),
      country: body.country ?? null, locale: body.locale ?? null, live: true, startedAt: Date.now(), endedAt: null,
      allowedCountries: body.allowedCountries ?? null,
    };
    const created = await opts.directory.create(room);
    if (created !== 'created') throw new ApiError('HB_API_ALREADY_LIVE', `you already have a live room (${created.liveRoom}); end it first`);
    await opts.owners.record(room.id, room.owner);
    // The room's actor refuses JOINs from elsewhere (the platform's `regions` action, stored with the room).
    if (room.allowedCountries) await opts.realtime.moderate(room.id, 'platform', 'regions', [[...room.allowedCountries]]);
    return reply.status(201).send(await view(room));
  });

  app.post('/:roomId/end', {
    schema: {
      tags: ['rooms'], summary: 'End your live stream', security: [{ bearer: [] }],
      params: Type.Object({ roomId: Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' }) }),
      response: { 200: Room, ...errorResponses(401, 403, 404) },
    },
  }, async (req) => {
    const claims = claimsOf(req);
    const id = req.params.roomId;
    const room = await opts.directory.get(id);
    if (!room || !room.live) throw new ApiError('HB_API_NOT_FOUND', 'no live room with this id');
    if (room.owner !== claims.sub) throw new ApiError('HB_API_FORBIDDEN', 'only the room owner may end it');
    await opts.directory.end(id, claims.sub, Date.now());
    await opts.realtime.endStream(id, claims.sub);
    return view((await opts.directory.get(id))!);
  });

  app.get('', {
    schema: {
      tags: ['rooms'], summary: 'Live rooms, most viewers first',
      querystring: Type.Object({
        country: Type.Optional(Country), locale: Type.Optional(Locale),
        limit: Type.Optional(Type.String({ pattern: '^(100|[1-9][0-9]?)$' })), offset: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
      }, { additionalProperties: false }),
      response: { 200: Type.Object({ rooms: Type.Array(Room), next: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400) },
    },
  }, async (req) => {
    const q = req.query;
    const limit = Number(q.limit ?? 20);
    const offset = Number(q.offset ?? 0);
    const here = opts.geo?.country(req.ip) ?? null;
    const visible = (await opts.directory.live({ ...(q.country ? { country: q.country } : {}), ...(q.locale ? { locale: q.locale } : {}) }))
      .filter((r) => !r.allowedCountries || (here !== null && r.allowedCountries.includes(here)));
    const rooms = (await withViewers(visible))
      .sort((a, b) => b.viewers - a.viewers || b.startedAt - a.startedAt || (a.id < b.id ? -1 : 1));
    const page = rooms.slice(offset, offset + limit);
    return { rooms: page, next: offset + limit < rooms.length ? String(offset + limit) : null };
  });

  // Agora RTC tokens: host (publisher) for the owner, audience (subscriber) for anyone not blocked, only
  // while the room is live. /renew issues a fresh one with the same rules, before the old one expires.
  const MediaTokenBody = Type.Object({
    token: Type.String(), appId: Type.String(), channel: Type.String(), uid: Type.Integer(), role: Type.String(), expiresAt: Type.Integer(),
    region: Type.String({ description: "Agora area code for the SDK's area setting, from the request's country: NA, EU, AS, JP, IN, CN, or GLOB when unknown" }),
  });
  for (const path of ['/:roomId/media-token', '/:roomId/media-token/renew']) {
    app.post(path, {
      schema: {
        tags: ['rooms'], summary: path.endsWith('renew') ? 'Renew an Agora RTC token' : 'Agora RTC token for this room', security: [{ bearer: [] }],
        params: Type.Object({ roomId: Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' }) }),
        body: Type.Object({ role: Type.Union([Type.Literal('host'), Type.Literal('audience')]) }, { additionalProperties: false }),
        response: { 200: MediaTokenBody, ...errorResponses(400, 401, 403, 404, 503) },
      },
    }, async (req) => {
      const claims = claimsOf(req);
      if (!opts.media) throw new ApiError('HB_API_UNAVAILABLE', 'live video is not configured (HALOBUZZ_AGORA_APP_ID, HALOBUZZ_AGORA_APP_CERTIFICATE)');
      const room = await opts.directory.get(req.params.roomId);
      if (!room || !room.live) throw new ApiError('HB_API_NOT_FOUND', 'no live room with this id');
      const role = req.body.role;
      if (role === 'host' && room.owner !== claims.sub) throw new ApiError('HB_API_FORBIDDEN', 'only the room owner may publish');
      if (await opts.accounts.isBlocked(claims.sub, room.owner)) throw new ApiError('HB_API_FORBIDDEN', 'the host blocked you');
      return { ...opts.media.issue(room.id, claims.sub, role, Date.now()), region: agoraAreaOf(opts.geo?.country(req.ip) ?? null) };
    });
  }

  app.get('/:roomId', {
    schema: {
      tags: ['rooms'], summary: 'One room',
      params: Type.Object({ roomId: Type.String({ pattern: '^[A-Za-z0-9_:.-]{1,64}$' }) }),
      response: { 200: Room, ...errorResponses(404) },
    },
  }, async (req) => {
    const room = await opts.directory.get(req.params.roomId);
    if (!room) throw new ApiError('HB_API_NOT_FOUND', 'no room with this id');
    return view(room);
  });
};

