/**
 * Protocol fuzz soak: C authenticated connections send N mutated frames in total (bit flips, byte
 * insertions and deletions, truncation, spliced MessagePack headers, type swaps, invalid UTF-8, deep
 * nesting, random bytes, and now and then an oversized frame) built from every valid request shape, in
 * windows closed by a PING whose reply proves the server processed the window. It reports answers by
 * error code, closes by code, the server's RSS over time (plotted), and fails when the server died, a
 * control connection stopped answering, or a connection closed with a code the protocol does not give
 * for bad input (anything but 1009 for an oversized frame). Seeded: the same --seed sends the same bytes.
 */
import WebSocket from 'ws';
import { decodeServerFrame as decode, encode } from '../protocol/codec';
import { ClientOp, CloseCode, PROTOCOL_VERSION, Role, ServerOp, errorName } from '../protocol/codes';
import { startServer, type ServerHandle } from '../tools/server-process';
import { HALOBUZZ_BENCH_ENV } from './targets';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface FuzzParams {
  frames: number;
  connections: number;
  window: number;
  seed: number;
  workers: number;
}

export const fuzzDefaults: FuzzParams = { frames: 1_000_000, connections: 8, window: 200, seed: 1, workers: 2 };
export const fuzzQuick: FuzzParams = { frames: 20_000, connections: 4, window: 200, seed: 1, workers: 2 };

const MAX_FRAME = 16384;
/**
 * Frames that end a connection by design, sent now and then as the last frame of a window: an oversized
 * frame (1009 close frame) and a text frame that is not UTF-8 (RFC 6455 requires failing the connection;
 * uWS drops it without a close frame: 1006). Any other close is a finding.
 */
const CLOSING: readonly { name: string; share: number; close: number; make: (r: () => number) => Uint8Array; binary: boolean }[] = [
  { name: 'oversized', share: 0.0002, close: CloseCode.MESSAGE_TOO_BIG, binary: true, make: (r) => new Uint8Array(MAX_FRAME + 1 + Math.floor(r() * MAX_FRAME * 2)).fill(0x90) },
  { name: 'text-not-utf8', share: 0.0001, close: 1006, binary: false, make: () => Uint8Array.from([0x94, 0xff, 0xfe, 0xed, 0xa0, 0x80]) },
];
const MARKER_BASE = 4_000_000_000;

/** mulberry32: small, fast, seedable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Valid requests of every op: what the mutations start from. */
function seeds(room: string): Uint8Array[] {
  return [
    [ClientOp.HELLO, 1, PROTOCOL_VERSION, 'tok', { platform: 'ios', app: '1.0', country: 'NP' }],
    [ClientOp.PING, 2],
    [ClientOp.JOIN, 3, room, Role.VIEWER],
    [ClientOp.LEAVE, 4, 'elsewhere'],
    [ClientOp.CHAT, 5, room, 'hello 👋 नमस्ते'],
    [ClientOp.DM, 6, 'fuzz-peer', 'hi there'],
    [ClientOp.RESUME, 7, room, 3, Role.VIEWER],
    [ClientOp.INBOX_ACK, 8, 5],
    [ClientOp.GIFT, 9, room, 'rose', 2, 'op-fuzz-000001'],
    [ClientOp.ROOM_END, 10, room],
    [ClientOp.WALLET, 11],
  ].map((f) => encode(f));
}

type Mutator = (f: Uint8Array, r: () => number) => Uint8Array;
const pick = <T>(xs: readonly T[], r: () => number): T => xs[Math.floor(r() * xs.length)]!;
const byte = (r: () => number) => Math.floor(r() * 256);
const at = (f: Uint8Array, r: () => number) => Math.floor(r() * Math.max(1, f.length));

const MUTATORS: readonly [string, Mutator][] = [
  ['bitflip', (f, r) => {
    const out = Uint8Array.from(f);
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const i = at(out, r);
      out[i] = out[i]! ^ (1 << Math.floor(r() * 8));
    }
    return out;
  }],
  ['set-byte', (f, r) => {
    const out = Uint8Array.from(f);
    out[at(out, r)] = pick([0x00, 0x7f, 0x80, 0x90, 0xc0, 0xc1, 0xc4, 0xca, 0xcb, 0xd4, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xff], r);
    return out;
  }],
  ['insert', (f, r) => {
    const i = at(f, r);
    const extra = Uint8Array.from({ length: 1 + Math.floor(r() * 8) }, () => byte(r));
    return Uint8Array.from([...f.subarray(0, i), ...extra, ...f.subarray(i)]);
  }],
  ['delete', (f, r) => {
    const i = at(f, r);
    return Uint8Array.from([...f.subarray(0, i), ...f.subarray(i + 1 + Math.floor(r() * 4))]);
  }],
  ['truncate', (f, r) => f.subarray(0, at(f, r))],
  ['huge-length', (f, r) => {
    // A header claiming a length far beyond the frame: str32, bin32, array32, map32.
    const head = pick([0xdb, 0xc6, 0xdd, 0xdf], r);
    return Uint8Array.from([0x93, ClientOp.CHAT, 5, head, 0x7f, 0xff, 0xff, 0xff, ...f.subarray(0, 16)]);
  }],
  ['bad-utf8', (_f, r) => {
    const bad = pick([[0xed, 0xa0, 0x80], [0xff, 0xfe, 0xfd], [0xc0, 0xaf], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]], r);
    return Uint8Array.from([0x94, ClientOp.CHAT, 12, 0xa5, ...Buffer.from('fuzz0'), 0xa0 | bad.length, ...bad]);
  }],
  ['type-swap', (_f, r) => encode([pick(Object.values(ClientOp), r), 13, ...Array.from({ length: Math.floor(r() * 6) },
    () => pick<unknown>([null, true, -1, 2.5, 2 ** 53, 'x'.repeat(Math.floor(r() * 100)), { $gt: '' }, [1, [2, [3]]], new Uint8Array(3), 'fuzz0'], r))])],
  ['deep-nesting', (_f, r) => {
    const depth = 10 + Math.floor(r() * 5000);
    return Uint8Array.from([...new Array<number>(depth).fill(0x91), 0x01]);
  }],
  ['random', (_f, r) => Uint8Array.from({ length: Math.floor(r() * 64) }, () => byte(r))],
  ['ext-type', () => Uint8Array.from([0x93, ClientOp.PING, 14, 0xd4, 0x01, 0x00])],
];

interface ConnState {
  ws: WebSocket;
  markers: Map<number, () => void>;
  closed: Promise<number>;
}

async function openConn(server: ServerHandle, user: string, room: string, counts: Map<string, number>): Promise<ConnState> {
  const ws = new WebSocket(server.url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
  const markers = new Map<number, () => void>();
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.on('message', (data: Buffer) => {
    const f = decode(data) as unknown[];
    if (f[0] === ServerOp.ERROR) counts.set(`error ${f[2]} ${errorName(f[2] as number)}`, (counts.get(`error ${f[2]} ${errorName(f[2] as number)}`) ?? 0) + 1);
    else if (f[0] === ServerOp.REPLY) {
      const marker = markers.get(f[1] as number);
      if (marker) {
        markers.delete(f[1] as number);
        marker();
      } else counts.set('reply', (counts.get('reply') ?? 0) + 1);
    } else counts.set('push', (counts.get('push') ?? 0) + 1);
  });
  const ready = new Promise<void>((resolve) => markers.set(1, resolve));
  ws.send(encode([ClientOp.HELLO, 1, PROTOCOL_VERSION, server.token(user)]));
  await ready;
  const joined = new Promise<void>((resolve) => markers.set(2, resolve));
  ws.send(encode([ClientOp.JOIN, 2, room, Role.VIEWER]));
  await joined;
  return { ws, markers, closed };
}

async function rssBytes(server: ServerHandle): Promise<number> {
  const text = await (await fetch(`${server.http}/metrics`)).text();
  return Number(/halobuzz_process_resident_memory_bytes (\d+)/.exec(text)?.[1] ?? 0);
}

export async function runFuzz(p: FuzzParams): Promise<void> {
  const server = await startServer({ ...HALOBUZZ_BENCH_ENV, HALOBUZZ_WORKERS: String(p.workers), HALOBUZZ_ABUSE_ERROR_LIMIT: '100000', HALOBUZZ_MAX_FRAME_BYTES: String(MAX_FRAME) });
  const counts = new Map<string, number>();
  const byMutator = new Map<string, number>();
  const closes = new Map<string, number>();
  let transportCounts: Record<string, number> = {};
  const unexpected: string[] = [];
  const rss: [number, number][] = [];
  const started = Date.now();
  try {
    const control = await openConn(server, 'fuzz-control', 'fuzz-control-room', new Map());
    const room = 'fuzz0';
    const r = rng(p.seed);
    const base = seeds(room);
    const progress = new Progress('fuzz: mutated frames', p.frames);
    rss.push([0, await rssBytes(server)]);
    let sent = 0;
    let marker = MARKER_BASE;
    const conns = await Promise.all(Array.from({ length: p.connections }, (_, i) => openConn(server, `fuzzer${i}`, room, counts)));
    let nextSample = 50_000;
    while (sent < p.frames) {
      await Promise.all(conns.map(async (c, i) => {
        const windowDone = new Promise<void>((resolve) => c.markers.set(++marker, resolve));
        const myMarker = marker;
        let expectedClose: number | null = null;
        for (let k = 0; k < p.window && sent < p.frames && expectedClose === null; k++, sent++) {
          const roll = r();
          const closing = CLOSING.find((_x, j) => roll < CLOSING.slice(0, j + 1).reduce((sum, y) => sum + y.share, 0));
          const bump = (name: string) => byMutator.set(name, (byMutator.get(name) ?? 0) + 1);
          if (closing) {
            bump(closing.name);
            expectedClose = closing.close;
            c.ws.send(closing.make(r), { binary: closing.binary });
          } else if (roll > 0.999) {
            bump('text-frame');
            c.ws.send(JSON.stringify({ op: 'chat', text: 'x'.repeat(Math.floor(r() * 50)) }), { binary: false });
          } else {
            const [name, mutate] = pick(MUTATORS, r);
            bump(name);
            c.ws.send(mutate(pick(base, r), r), { binary: true });
          }
        }
        if (expectedClose === null) c.ws.send(encode([ClientOp.PING, myMarker]));
        const code = await Promise.race([windowDone.then(() => null), c.closed]);
        if (code !== null || expectedClose !== null) {
          const got = code ?? 'no close';
          closes.set(String(got), (closes.get(String(got)) ?? 0) + 1);
          if (code !== expectedClose) unexpected.push(`connection ${i} closed with ${got}, expected ${expectedClose ?? 'none'}`);
          c.ws.terminate();
          conns[i] = await openConn(server, `fuzzer${i}`, room, counts);
        }
      }));
      progress.update(sent, `errors ${[...counts].filter(([k]) => k.startsWith('error')).reduce((s, [, v]) => s + v, 0)} closes ${[...closes.values()].reduce((s, v) => s + v, 0)}`);
      if (sent >= nextSample || sent >= p.frames) {
        nextSample += 50_000;
        rss.push([sent, await rssBytes(server)]);
        const ping = new Promise<void>((resolve, reject) => {
          control.markers.set(++marker, resolve);
          setTimeout(() => reject(new Error('the control connection got no PING reply within 10 s')), 10_000).unref();
        });
        control.ws.send(encode([ClientOp.PING, marker]));
        await ping;
      }
    }
    progress.done(`${((Date.now() - started) / 1000).toFixed(1)} s`);
    // The server counted every connection-ending frame it got: compare with what was sent.
    const metrics = await (await fetch(`${server.http}/metrics`)).text();
    const metric = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? 0);
    transportCounts = {
      oversizedClosed1009: metric(/halobuzz_oversized_frames_total\{outcome="closed_1009"\} (\d+)/),
      textNotUtf8Cut: metric(/halobuzz_transport_cuts_total\{reason="text_not_utf8"\} (\d+)/),
    };
    if (transportCounts.oversizedClosed1009 !== (byMutator.get('oversized') ?? 0)) unexpected.push(`server counted ${transportCounts.oversizedClosed1009} oversized frames, ${byMutator.get('oversized') ?? 0} were sent`);
    if (transportCounts.textNotUtf8Cut !== (byMutator.get('text-not-utf8') ?? 0)) unexpected.push(`server counted ${transportCounts.textNotUtf8Cut} non-UTF-8 text frames, ${byMutator.get('text-not-utf8') ?? 0} were sent`);
    for (const c of conns) c.ws.close();
    control.ws.close();
  } finally {
    const exit = await server.stop();
    if (exit !== 0) unexpected.push(`server exited with ${exit}`);
  }
  const seconds = (Date.now() - started) / 1000;
  const rssStart = rss[0]?.[1] ?? 0;
  const rssEnd = rss.at(-1)?.[1] ?? 0;
  const result = {
    scenario: 'fuzz', params: p, seconds: Number(seconds.toFixed(1)), framesPerSecond: Math.round(p.frames / seconds),
    answers: Object.fromEntries([...counts].sort()), mutations: Object.fromEntries([...byMutator].sort()),
    closes: Object.fromEntries(closes), serverCounted: transportCounts, unexpected, rssStartMB: Number((rssStart / 2 ** 20).toFixed(1)), rssEndMB: Number((rssEnd / 2 ** 20).toFixed(1)),
    rssGrowthMB: Number(((rssEnd - rssStart) / 2 ** 20).toFixed(1)),
  };
  console.log(`\nfuzz ${JSON.stringify(p)}: ${p.frames} frames in ${result.seconds} s (${result.framesPerSecond}/s)`);
  for (const [k, v] of Object.entries(result.answers)) console.log(`  ${k.padEnd(30)} ${v}`);
  console.log(`  closes: ${JSON.stringify(result.closes)}; RSS ${result.rssStartMB} → ${result.rssEndMB} MB (${result.rssGrowthMB >= 0 ? '+' : ''}${result.rssGrowthMB} MB)`);
  const svg = lineChart({ title: 'fuzz: server RSS while fuzzing', xLabel: 'frames sent', yLabel: 'RSS (MB)', series: [{ name: 'HaloBuzz RSS', points: rss.map(([x, y]) => ({ x, y: y / 2 ** 20 })) }] });
  console.log(`results: ${writeResult('fuzz', result, svg).join(', ')}`);
  if (unexpected.length > 0) throw new Error(`fuzz found problems: ${unexpected.join('; ')}`);
}
