/**
 * Moderation end to end on a real server process: a host's moderator mutes, kicks and bans; a banned user's
 * JOIN and RESUME are refused, and so is a new account on the banned device (flagged for review); a deleted
 * message leaves live screens and resumed history; non-moderators and moderators out of their room are
 * refused; the filter blocks, masks and flags in several languages and lets false positives pass; a report
 * snapshots a message that is deleted afterwards; staff resolve it with a suspension that ends the user's
 * sockets and sign-ins, every step audited; the user appeals and staff overturn it.
 */
import t from 'tap';
import { startServer, type ServerHandle } from '../../tools/server-process';
import { ClientOp, CloseCode, ErrorCode, Role } from '../../protocol/codes';
import { HaloError, type ChatEvent, type HaloClient, type ModEvent } from '../../sdk/client';
import { apiCaller, apiUser, until } from '../helpers/games';

const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof HaloError ? e.code : String(e)));

async function register(server: ServerHandle, name: string, device?: string) {
  const email = `${name}-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`;
  const password = 'correct horse battery staple';
  const res = await fetch(`${server.api}/v1/auth/register`, {
    method: 'POST', headers: { 'content-type': 'application/json', ...(device ? { 'x-device-id': device } : {}) }, body: JSON.stringify({ email, password, displayName: name }),
  });
  const body = await res.json() as { user: { id: string }; tokens: { accessToken: string } };
  return { id: body.user.id, token: body.tokens.accessToken, email, password, status: res.status };
}

t.test('room moderation, the filter, reports, staff review, suspension and appeal', { timeout: 120_000 }, async (t) => {
  const server = await startServer({ HALOBUZZ_DEBUG_ENDPOINTS: '1' });
  t.teardown(() => server.stop());
  const api = apiCaller(server);
  const staff = await apiUser(server, 'Staff', true);
  const host = await apiUser(server, 'Host');
  const created = await api('POST', '/v1/rooms', host.token, { title: 'moderated' });
  t.equal(created.status, 201);
  const room = created.body.id as string;
  const other = (await api('POST', '/v1/rooms', (await apiUser(server, 'OtherHost')).token, { title: 'other' })).body.id as string;

  const connect = async (user: string, device?: string, token?: string): Promise<HaloClient> => {
    const c = server.client(user, { reconnect: false, ...(device ? { client: { platform: 'android', device } } : {}), ...(token ? { token: () => token } : {}) });
    await c.connect();
    return c;
  };
  const h = await connect(host.id);
  await h.join(room, Role.HOST);
  const mo = await connect('mo-user');
  await mo.join(room);
  const viewer = await connect('viewer-user');
  const seen: ChatEvent[] = [];
  const modEvents: ModEvent[] = [];
  viewer.on('chat', (e) => seen.push(e));
  viewer.on('mod', (e) => modEvents.push(e));
  await viewer.join(room);
  const troll = await register(server, 'Troll', 'install-troll-0001');
  const trollClient = await connect(troll.id, 'install-troll-0001', troll.token);
  await trollClient.join(room);

  // Roles.
  t.equal(await code(mo.mute(room, troll.id, 60)), ErrorCode.NOT_MODERATOR, 'not a moderator yet');
  t.match(await h.appointModerator(room, 'mo-user'), { action: 'appoint', user: 'mo-user' });
  t.equal(await code(mo.kick(room, host.id)), ErrorCode.CANNOT_MODERATE, 'a moderator cannot act against the host');
  await mo.join(other);
  t.equal(await code(mo.kick(other, 'viewer-user')), ErrorCode.NOT_MODERATOR, 'nor in another room');

  // Mute.
  await mo.mute(room, troll.id, 300);
  const muted = await trollClient.chat(room, 'let me speak').catch((e: HaloError) => e);
  t.match(muted, { code: ErrorCode.MUTED, detail: { until: Number } });
  await mo.unmute(room, troll.id);

  // Followers-only, asked of the real follow store from the actor's worker.
  await mo.setFollowersOnly(room, true);
  const first = await trollClient.chat(room, 'hello?').catch((e: HaloError) => e);
  t.match(first, { code: ErrorCode.FOLLOWERS_ONLY }, String(first));
  t.match(await api('PUT', `/v1/me/following/${host.id}`, troll.token), { status: 200, body: { following: true } });
  // A refusal is believed for 5 s (actors/room-actor.ts FOLLOW_RECHECK_MS), then the follow store is asked again.
  await new Promise((r) => setTimeout(r, 5200));
  t.equal(await code(trollClient.chat(room, 'now I follow')), 'ok', 'a new follower may chat within seconds');
  await mo.setFollowersOnly(room, false);

  // The filter, several languages; false positives pass.
  const said = async (text: string) => {
    const r = await trollClient.chat(room, text).catch((e: HaloError) => e);
    if (r instanceof HaloError) return r.code;
    return (await until(`"${text}" reaches the viewer`, () => seen.find((e) => e.seq === r.seq))).text;
  };
  t.equal(await said('greetings from Scunthorpe, that assassin was classic'), 'greetings from Scunthorpe, that assassin was classic');
  t.equal(await said('eres un pendejo'), 'eres un *******', 'Spanish masked');
  t.equal(await said('du bist ein arschloch'), 'du bist ein *********', 'German masked');
  t.equal(await said('иди нахуй'), 'иди *****', 'Russian masked');
  t.equal(await said('kys loser'), ErrorCode.MESSAGE_BLOCKED, 'self-harm blocked');
  t.equal(await said('free coins at www.coins4u.xyz'), ErrorCode.SPAM, 'link spam blocked');
  t.equal(await said('whatsapp me +44 7700 900123'), 'whatsapp me +44 7700 900123', 'contact details sent, and flagged for review');
  await h.setFilter(room, 'strict');
  t.equal(await said('vaffanculo stronzo'), ErrorCode.MESSAGE_BLOCKED, 'Italian blocked in a strict room');
  await h.setFilter(room, 'standard');

  // A report snapshots a message; the message is deleted afterwards; the snapshot stays.
  const bad = await trollClient.chat(room, 'you are all idiots and I will find you');
  await until('the viewer saw it', () => seen.find((e) => e.seq === bad.seq));
  const reporter = await apiUser(server, 'Reporter');
  const reasons = await api('GET', '/v1/reports/reasons');
  t.ok((reasons.body.reasons as { id: string }[]).some((r) => r.id === 'harassment'));
  const filed = await api('POST', '/v1/reports', reporter.token, { target: { kind: 'message', room, seq: bad.seq }, reason: 'harassment', text: 'threatening' });
  t.equal(filed.status, 201);
  t.equal(filed.body.merged, false);
  const again = await api('POST', '/v1/reports', staff.token, { target: { kind: 'message', room, seq: bad.seq }, reason: 'violence' });
  t.same([again.body.id, again.body.merged], [filed.body.id, true], 'a second reporter joins the open report');
  t.equal((await api('POST', '/v1/reports', reporter.token, { target: { kind: 'message', room, seq: 999_999 }, reason: 'spam' })).status, 404);
  t.equal((await api('POST', '/v1/reports', reporter.token, { target: { kind: 'user', user: reporter.id }, reason: 'spam' })).status, 400, 'not yourself');
  t.equal((await api('POST', '/v1/reports', reporter.token, { target: { kind: 'user', user: troll.id }, reason: 'made_up' })).status, 400, 'reasons come from the list');

  const deleted = await mo.deleteMessage(room, bad.seq);
  t.match(deleted, { action: 'delete', message: bad.seq, user: troll.id });
  await until('live viewers hear of the deletion', () => modEvents.find((e) => e.action === 'delete' && e.data.message === bad.seq));
  const late = await connect('late-viewer');
  const replayed: unknown[] = [];
  late.on('chat', (e) => replayed.push(e.text));
  late.on('mod', (e) => replayed.push(`${e.action}:${String(e.data.message ?? e.seq)}`));
  const resumed = await late.request(ClientOp.RESUME, room, 0, Role.VIEWER) as { missed: number };
  t.ok(resumed.missed > 0, `a resume from 0 replays ${resumed.missed} events`);
  await until('the replay arrives', () => replayed.length > 0);
  t.notOk(replayed.includes('you are all idiots and I will find you'), 'the deleted message is not in resumed history');
  t.ok(replayed.includes(`removed:${bad.seq}`), 'its seq holds the tombstone');

  // Staff review: the queue, a claim, the snapshot, resolve with a suspension.
  const queue = await api('GET', '/v1/admin/reports?status=open', staff.token);
  const item = (queue.body.reports as Record<string, any>[]).find((r) => r.id === filed.body.id)!;
  t.match(item, { reason: 'harassment', reporters: 2, priority: 1, target: { kind: 'message', user: troll.id, room, seq: bad.seq },
    snapshot: { from: troll.id, text: 'you are all idiots and I will find you' } }, 'the snapshot survived the deletion; violence made it urgent');
  t.equal((await api('GET', '/v1/admin/reports', reporter.token)).status, 403, 'staff only');
  const flagged = await until('the filter flag reaches the queue', async () => ((await api('GET', '/v1/admin/reports?status=open', staff.token)).body.reports as Record<string, any>[])
    .find((r) => r.reason === 'filter:contact'));
  t.match(flagged, { target: { kind: 'message', user: troll.id }, snapshot: { text: 'whatsapp me +44 7700 900123' } }, 'the filter flag is in the queue');
  t.equal((await api('POST', `/v1/admin/reports/${filed.body.id}/claim`, staff.token)).status, 200);
  const otherStaff = await apiUser(server, 'Staff2', true);
  t.equal((await api('POST', `/v1/admin/reports/${filed.body.id}/claim`, otherStaff.token)).status, 409, 'one reviewer at a time');
  await api('POST', `/v1/admin/reports/${filed.body.id}/notes`, staff.token, { text: 'clear threat' });
  const closed = new Promise<number>((resolve) => trollClient.on('disconnected', (d) => resolve(d.code)));
  const resolved = await api('POST', `/v1/admin/reports/${filed.body.id}/resolve`, staff.token, { action: 'suspend', reason: 'threats', durationSec: 7 * 86_400, devices: true });
  t.match(resolved.body, { status: 'resolved', resolution: { action: 'suspend', by: staff.id, until: Number }, notes: [{ text: 'clear threat' }] });
  t.equal(await closed, CloseCode.SESSION_REVOKED, "the suspended user's socket closed");
  const login = await api('POST', '/v1/auth/login', undefined, { email: troll.email, password: troll.password });
  t.match(login, { status: 403, body: { error: { code: 'HB_API_ACCOUNT_SUSPENDED' } } }, 'sign-in refused');

  // A new account on the suspended device is flagged.
  const alt = await register(server, 'NewFriend', 'install-troll-0001');
  t.equal(alt.status, 201, 'the new account is created');
  const evasion = await until('the evasion is in the queue', async () => ((await api('GET', '/v1/admin/reports?status=open', staff.token)).body.reports as Record<string, any>[])
    .find((r) => r.reason === 'ban_evasion' && r.target.user === alt.id));
  t.match(evasion, { snapshot: { device: 'install-troll-0001', suspendedAccount: troll.id, newAccount: true } });

  // Room bans: by user and device; RESUME refused too.
  const pest = await register(server, 'Pest');
  const pestClient = await connect(pest.id, 'install-pest-0002', pest.token);
  await pestClient.join(room);
  t.match(await mo.ban(room, pest.id, { devices: true }), { action: 'ban', user: pest.id, until: 0, devices: 1 });
  t.equal(await code(pestClient.join(room)), ErrorCode.BANNED, 'JOIN refused');
  t.equal(await code(pestClient.request(ClientOp.RESUME, room, 0, Role.VIEWER)), ErrorCode.BANNED, 'RESUME refused');
  const pestAlt = await connect('pest-alt', 'install-pest-0002');
  t.equal(await code(pestAlt.join(room)), ErrorCode.BANNED, 'a new account on the banned device is refused');
  await until('the device evasion is flagged', async () => ((await api('GET', '/v1/admin/reports?status=open', staff.token)).body.reports as Record<string, any>[])
    .find((r) => r.reason === 'ban_evasion' && r.target.user === 'pest-alt'));
  await mo.kick(room, 'viewer-user');
  t.equal(await code(viewer.join(room)), 'ok', 'a kicked user may come back');

  // The audit log: room actions and staff decisions, with who and why.
  const audit = await until('room actions reach the audit log', async () => {
    const r = await api('GET', '/v1/admin/audit?limit=100', staff.token);
    const actions = (r.body.entries as { action: string }[]).map((e) => e.action);
    return ['room_mute', 'room_delete', 'room_ban', 'room_kick', 'suspend', 'report_resolve'].every((a) => actions.includes(a)) ? r.body.entries as Record<string, any>[] : null;
  });
  t.match(audit.find((e) => e.action === 'suspend'), { actor: staff.id, target: troll.id, reason: 'threats' });
  t.match(audit.find((e) => e.action === 'room_ban'), { actor: 'mo-user', target: pest.id });

  // The appeal: the suspended user sees the decision, appeals; staff overturn it and the suspension ends.
  const trollRow = await api('GET', `/v1/admin/reports/${filed.body.id}`, staff.token);
  t.equal(trollRow.body.status, 'resolved');
  const { SqliteModerationStore } = await import('../../adapters/moderation/moderation-store-sqlite');
  const { join } = await import('node:path');
  const store = new SqliteModerationStore(join(server.dataDir, 'moderation.sqlite'));
  t.teardown(() => store.close());
  // The suspended user cannot sign in to appeal over the API: support files it for them in the store.
  const decision = (await store.reportsAbout(troll.id, 10)).find((r) => r.id === filed.body.id)!;
  t.ok(decision, 'the decision is recorded about the user');
  t.equal(decision.resolution?.action, 'suspend');
  const appealed = await store.appeal(decision.id, { text: 'I was hacked', at: Date.now() });
  t.equal(appealed?.status, 'appealed');
  const overturned = await api('POST', `/v1/admin/reports/${filed.body.id}/appeal-decision`, staff.token, { uphold: false, note: 'account was compromised' });
  t.match(overturned.body, { status: 'closed', appeal: { decision: 'overturned', by: staff.id } });
  const relogin = await api('POST', '/v1/auth/login', undefined, { email: troll.email, password: troll.password });
  t.equal(relogin.status, 200, 'overturned: the suspension is lifted');
  const me = await api('GET', '/v1/me/moderation', relogin.body.tokens.accessToken);
  t.match(me.body.decisions.find((d: { id: string }) => d.id === filed.body.id), { action: 'suspend', appealable: false, appeal: { text: 'I was hacked', decision: 'overturned' } });
  t.equal(me.body.suspension, null);

  // Display names go through the filter too.
  const rude = await api('POST', '/v1/auth/register', undefined, { email: `rude-${Date.now()}@example.com`, password: 'correct horse battery staple', displayName: 'Big Shit' });
  t.match(rude, { status: 400, body: { error: { code: 'HB_API_NAME_REJECTED' } } });

  // Workers report filter decisions with their stats, once a second.
  const metrics = await until('the filter decisions reach /metrics', async () => {
    const text = await (await fetch(`${server.http}/metrics`)).text();
    return /halobuzz_moderation_filter_total\{rule="links",action="block"\} [1-9]/.test(text) ? text : null;
  });
  t.match(metrics, /halobuzz_moderation_filter_total\{rule="profanity",action="mask"\} [3-9]/, 'every filter decision is counted');
  t.match(metrics, /halobuzz_moderation_reports_total\{outcome="filed"\} [1-9]/);
  t.match(metrics, /halobuzz_errors_total\{code="401",name="BANNED"\} [1-9]/, 'refusals are counted with their codes');
});

t.test('staff shadow-mute: the message reaches only its sender; the appeal path of a user who can sign in', { timeout: 60_000 }, async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const api = apiCaller(server);
  const staff = await apiUser(server, 'Staff', true);
  const host = await apiUser(server, 'Host');
  const room = (await api('POST', '/v1/rooms', host.token, { title: 'shadow' })).body.id as string;
  const loud = await register(server, 'Loud');
  const muted = await api('POST', `/v1/admin/users/${loud.id}/shadow-mute`, staff.token, { reason: 'spam waves', durationSec: 3600 });
  t.match(muted, { status: 200, body: { user: loud.id, until: Number } });
  const h = server.client(host.id, { reconnect: false });
  await h.connect();
  await h.join(room, Role.HOST);
  const hostSaw: string[] = [];
  h.on('chat', (e) => hostSaw.push(e.text));
  const l = server.client(loud.id, { reconnect: false });
  const loudSaw: ChatEvent[] = [];
  l.on('chat', (e) => loudSaw.push(e));
  await l.connect();
  await l.join(room);
  await l.chat(room, 'BUY FOLLOWERS NOW');
  await h.chat(room, 'hello room');
  await until('the host sees their own message', () => hostSaw.includes('hello room'));
  await until('the shadow-muted user sees theirs', () => loudSaw.find((e) => e.text === 'BUY FOLLOWERS NOW'));
  t.notOk(hostSaw.includes('BUY FOLLOWERS NOW'), 'nobody else does');
  t.equal(loudSaw.find((e) => e.text === 'BUY FOLLOWERS NOW')!.seq, 0, 'outside the room sequence');
  await until('they still see the room', () => loudSaw.some((e) => e.text === 'hello room'));
  t.equal((await api('DELETE', `/v1/admin/users/${loud.id}/shadow-mute?reason=${encodeURIComponent('served')}`, staff.token)).status, 204);
  await l.chat(room, 'sorry everyone');
  await until('after the lift everyone sees it', () => hostSaw.includes('sorry everyone'));

  // A user report about the loud user, resolved with a shadow mute, appealed by them over the API.
  const reporter = await apiUser(server, 'Reporter');
  const filed = await api('POST', '/v1/reports', reporter.token, { target: { kind: 'user', user: loud.id }, reason: 'spam' });
  const resolved = await api('POST', `/v1/admin/reports/${filed.body.id}/resolve`, staff.token, { action: 'shadow_mute', reason: 'spam', durationSec: 600 });
  t.equal(resolved.status, 200);
  t.equal((await api('POST', `/v1/admin/reports/${filed.body.id}/resolve`, staff.token, { action: 'dismiss', reason: 'twice' })).status, 409, 'resolved once');
  const mine = await api('GET', '/v1/me/moderation', loud.token);
  t.match(mine.body, { decisions: [{ id: filed.body.id, action: 'shadow_mute', appealable: true, appeal: null }] });
  t.notOk(JSON.stringify(mine.body).includes(reporter.id), 'the reported user never learns who reported them');
  const appeal = await api('POST', `/v1/reports/${filed.body.id}/appeal`, loud.token, { text: 'it was one message' });
  t.match(appeal, { status: 200, body: { status: 'appealed' } });
  t.equal((await api('POST', `/v1/reports/${filed.body.id}/appeal`, loud.token, { text: 'again' })).status, 409, 'one appeal');
  t.equal((await api('POST', `/v1/reports/${filed.body.id}/appeal`, reporter.token, { text: 'me too' })).status, 404, 'only the reported user appeals');
  const upheld = await api('POST', `/v1/admin/reports/${filed.body.id}/appeal-decision`, staff.token, { uphold: true, note: 'repeated spam' });
  t.match(upheld.body, { status: 'closed', appeal: { decision: 'upheld' } });

  // Staff end a live room.
  const lives: boolean[] = [];
  h.on('live', (e) => lives.push(e.live));
  const ended = await api('POST', `/v1/admin/rooms/${room}/end`, staff.token, { reason: 'tos violation' });
  t.equal(ended.status, 202);
  await until('the stream ends for everyone', () => lives.includes(false));
});
