import t from 'tap';
import { MmdbCountryLookup, clientAddressOf } from './country-lookup';

const clientAddress = (peer: string, forwardedFor: string | null, trusted: string[]) => clientAddressOf(trusted)(peer, forwardedFor);

t.test('countries from the shipped database; none for private, loopback or malformed addresses', async (t) => {
  const geo = MmdbCountryLookup.open();
  t.equal(geo.country('8.8.8.8'), 'US');
  t.equal(geo.country('27.34.16.1'), 'NP');
  t.equal(geo.country('::ffff:27.34.16.1'), 'NP', 'IPv4-mapped IPv6');
  t.equal(geo.country('2400:1a00:b030::1'), 'NP', 'IPv6');
  for (const ip of ['127.0.0.1', '10.1.2.3', '192.168.0.9', '::1', 'not an ip', '']) t.equal(geo.country(ip), null, `none for ${JSON.stringify(ip)}`);
});

t.test('the client address: the peer, or the forwarded one when the peer is a trusted proxy', async (t) => {
  t.equal(clientAddress('203.0.113.7', '27.34.16.1', []), '203.0.113.7', 'no trusted proxies: the header is ignored');
  t.equal(clientAddress('203.0.113.7', '27.34.16.1', ['10.0.0.0/8']), '203.0.113.7', 'an untrusted peer: its header is ignored');
  t.equal(clientAddress('10.0.0.5', '27.34.16.1', ['10.0.0.0/8']), '27.34.16.1');
  t.equal(clientAddress('10.0.0.5', '8.8.8.8, 27.34.16.1', ['10.0.0.0/8']), '27.34.16.1', 'the nearest untrusted hop, not a spoofable leftmost one');
  t.equal(clientAddress('10.0.0.5', '8.8.8.8, 10.0.0.9', ['10.0.0.0/8']), '8.8.8.8', 'trusted hops are skipped');
  t.equal(clientAddress('10.0.0.5', null, ['10.0.0.0/8']), '10.0.0.5');
});
