/**
 * Consent end to end on a real server writing to the real ClickHouse: a user who declined analytics
 * produces no events there (connect, join, chat, gift, leave, disconnect), while another user's activity in
 * the same room is recorded, and the gift they received records its creator as `(declined)`. Granting it
 * again records them again. The consent history is kept for an audit.
 */
import t from 'tap';
import { createClient } from '@clickhouse/client';
import { startServer } from '../../tools/server-process';
import { Role } from '../../protocol/codes';
import { engineUrl } from '../helpers/services';
import { apiCaller, apiUser, until } from '../helpers/games';

const url = engineUrl(t, 'clickhouse');

if (url) {
  t.test('a user who declined analytics produces no ClickHouse events; others still do', { timeout: 90_000 }, async (t) => {
    const database = `consent_e2e_${process.pid}_${Date.now()}`;
    const ch = createClient({ url });
    t.teardown(async () => {
      await ch.command({ query: `DROP DATABASE IF EXISTS ${database}` });
      await ch.close();
    });
    const server = await startServer({ CLICKHOUSE_URL: url, HALOBUZZ_CLICKHOUSE_DATABASE: database, HALOBUZZ_DEBUG_ENDPOINTS: '1' });
    t.teardown(() => server.stop());
    const api = apiCaller(server);
    const quiet = await apiUser(server, 'Quiet');
    const loud = await apiUser(server, 'Loud');
    const staff = await apiUser(server, 'Staff', true);

    const before = await api('GET', '/v1/me/consents', quiet.token);
    t.match(before.body, { choices: { analytics: { granted: true, at: null }, do_not_sell: { granted: false } }, needsAcceptance: ['terms', 'privacy'] });
    const version = before.body.documents.terms.version as string;
    t.equal((await api('PUT', '/v1/me/consents', quiet.token, { terms: 'an-old-one' })).status, 400, 'only the current version can be accepted');
    const after = await api('PUT', '/v1/me/consents', quiet.token, { analytics: false, doNotSell: true, terms: version, privacy: before.body.documents.privacy.version });
    t.match(after.body, { choices: { analytics: { granted: false, at: Number }, do_not_sell: { granted: true } }, needsAcceptance: [] });

    const room = (await api('POST', '/v1/rooms', quiet.token, { title: 'quiet room' })).body.id as string;
    await fetch(`${server.http}/debug/mint?user=${loud.id}&coins=100&op=mint-consent-loud`, { method: 'POST' });
    const host = server.client(quiet.id, { reconnect: false, token: () => quiet.token });
    await host.connect();
    await host.join(room, Role.HOST);
    await host.chat(room, 'nobody counts this');
    const fan = server.client(loud.id, { reconnect: false, token: () => loud.token });
    await fan.connect();
    await fan.join(room);
    await fan.chat(room, 'this one counts');
    await fan.gift(room, 'rose', 1, 'consent-gift-0001');
    await fan.leave(room);
    fan.close();
    host.close();

    const rows = async (where: string) => {
      const rs = await ch.query({ query: `SELECT type, user, creator FROM ${database}.events FINAL WHERE ${where} ORDER BY ts_ms, type`, format: 'JSONEachRow' });
      return (await rs.json()) as { type: string; user: string; creator: string }[];
    };
    const loudEvents = await until('the other user\'s events reach ClickHouse', async () => {
      const r = await rows(`user = '${loud.id}'`);
      return ['connect', 'join', 'chat', 'gift', 'leave', 'disconnect'].every((type) => r.some((e) => e.type === type)) ? r : null;
    }, 30_000);
    t.match(loudEvents.find((e) => e.type === 'gift'), { creator: '(declined)' }, 'the gift counts; the creator who declined is not named');
    t.same(await rows(`user = '${quiet.id}' OR creator = '${quiet.id}' OR target = '${quiet.id}'`), [], 'nothing at all of the user who declined');

    await api('PUT', '/v1/me/consents', quiet.token, { analytics: true });
    const again = server.client(quiet.id, { reconnect: false, token: () => quiet.token });
    await again.connect();
    await again.join(room, Role.HOST);
    await until('granting it again records them again', async () => (await rows(`user = '${quiet.id}'`)).some((e) => e.type === 'join'), 30_000);
    again.close();

    const audit = await api('GET', `/v1/admin/users/${quiet.id}/consents`, staff.token);
    t.same(audit.body.records.map((r: { kind: string; granted: boolean }) => `${r.kind}:${r.granted}`), ['analytics:false', 'do_not_sell:true', 'terms:true', 'privacy:true', 'analytics:true']);
    const csv = await fetch(`${server.api}/v1/admin/users/${quiet.id}/consents.csv`, { headers: { authorization: `Bearer ${staff.token}` } });
    t.match(csv.headers.get('content-type'), /text\/csv/);
    t.equal((await csv.text()).trim().split('\n').length, 6, 'a header and five records');
    t.equal((await api('GET', `/v1/admin/users/${quiet.id}/consents`, loud.token)).status, 403);
  });
}
