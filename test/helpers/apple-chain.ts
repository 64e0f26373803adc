/**
 * A signing chain of the test's own, shaped like Apple's (root → intermediate with OID
 * 1.2.840.113635.100.6.2.1 → leaf with 1.2.840.113635.100.6.11.1, EC P-256), made with the machine's
 * openssl, and a JWS signer (ES256, x5c header) for StoreKit 2 transactions and V2 notifications. The
 * server is given this root through its configuration; Apple's production roots never appear in tests.
 */
import { spawnSync } from 'node:child_process';
import { createSign, createPrivateKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestChain {
  /** The root certificate file (PEM), for HALOBUZZ_APPLE_ROOT_CERTS. */
  readonly rootFile: string;
  sign(payload: object): string;
}

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

const der = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');

export function makeTestChain(name = 'HaloBuzz Test'): TestChain {
  const dir = mkdtempSync(join(tmpdir(), 'hb-apple-chain-'));
  for (const k of ['root', 'inter', 'leaf']) openssl(dir, 'ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${k}.key`);
  openssl(dir, 'req', '-x509', '-new', '-key', 'root.key', '-subj', `/CN=${name} Root CA`, '-days', '3650', '-out', 'root.pem',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  writeFileSync(join(dir, 'inter.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n1.2.840.113635.100.6.2.1=ASN1:NULL\n');
  writeFileSync(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n1.2.840.113635.100.6.11.1=ASN1:NULL\n');
  openssl(dir, 'req', '-new', '-key', 'inter.key', '-subj', `/CN=${name} Intermediate`, '-out', 'inter.csr');
  openssl(dir, 'x509', '-req', '-in', 'inter.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-CAcreateserial', '-days', '3650', '-out', 'inter.pem', '-extfile', 'inter.ext');
  openssl(dir, 'req', '-new', '-key', 'leaf.key', '-subj', `/CN=${name} Signing`, '-out', 'leaf.csr');
  openssl(dir, 'x509', '-req', '-in', 'leaf.csr', '-CA', 'inter.pem', '-CAkey', 'inter.key', '-CAcreateserial', '-days', '3650', '-out', 'leaf.pem', '-extfile', 'leaf.ext');
  const x5c = ['leaf.pem', 'inter.pem', 'root.pem'].map((f) => der(readFileSync(join(dir, f), 'utf8')));
  const key: KeyObject = createPrivateKey(readFileSync(join(dir, 'leaf.key')));
  const b64 = (v: object) => Buffer.from(JSON.stringify(v)).toString('base64url');
  return {
    rootFile: join(dir, 'root.pem'),
    sign: (payload) => {
      const input = `${b64({ alg: 'ES256', x5c })}.${b64(payload)}`;
      const signature = createSign('SHA256').update(input).sign({ key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
      return `${input}.${signature}`;
    },
  };
}
