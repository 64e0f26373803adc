/**
 * Codec: the MessagePack library on the hot paths, @msgpack/msgpack (ours) against msgpackr, in this
 * process. Three things decide a switch (issue #23: ≥ 1.5× faster with byte-identical frames):
 * - bytes: every golden vector of docs/protocol-vectors.json encoded by each library, compared to the hex
 *   an independent encoder (Python msgpack) produced;
 * - encoding room events (chat and gift frames with millisecond timestamps) per second;
 * - decoding client frames per second, ours through the real entry point (limits and the strict UTF-8
 *   check included) and each library plain.
 * Prints a table, writes bench/results/codec-<time>.json and an .svg of the rates.
 */
import { Decoder, Encoder } from '@msgpack/msgpack';
import { Packr, Unpackr } from 'msgpackr';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeClientFrame, roomChatFrame, roomGiftFrame } from '../protocol/codec';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface CodecParams { iterations: number }
export const codecDefaults: CodecParams = { iterations: 1_000_000 };
export const codecQuick: CodecParams = { iterations: 50_000 };

interface Vectors { client: Record<string, { value: unknown; hex: string }>; server: Record<string, { value: unknown; hex: string }> }

/** Operations per second of `fn` over `n` calls, after a warm-up. */
function rate(n: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(n, 20_000); i++) fn(i);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn(i);
  return Math.round(n / ((performance.now() - t0) / 1000));
}

export async function runCodec(p: CodecParams): Promise<unknown> {
  const vectors = JSON.parse(readFileSync(join(__dirname, '..', '..', 'docs', 'protocol-vectors.json'), 'utf8')) as Vectors;
  const ours = new Encoder({ ignoreUndefined: true });
  const packr = new Packr({ useRecords: false, variableMapSize: true });
  const all = [...Object.entries(vectors.client), ...Object.entries(vectors.server)];
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const mismatches = (encode: (v: unknown) => Uint8Array) => all.filter(([, v]) => hex(encode(v.value)) !== v.hex).map(([name]) => name);
  const identity = { ours: mismatches((v) => ours.encode(v)), msgpackr: mismatches((v) => packr.pack(v)) };
  console.log(`golden vectors byte-identical: @msgpack/msgpack ${all.length - identity.ours.length}/${all.length}, msgpackr ${all.length - identity.msgpackr.length}/${all.length}${identity.msgpackr.length ? ` (differs: ${identity.msgpackr.join(', ')})` : ''}`);

  const progress = new Progress('codec', 5);
  const ts = Date.now();
  const chat = (i: number) => ['r', 'room-42', 1000 + i, ts + i, 'u_1234567890abcdef0123', 'hello everyone, love this song'];
  const encodeOurs = rate(p.iterations, (i) => (i % 2 ? roomChatFrame('room-42', 1000 + i, ts + i, 'u_1234567890abcdef0123', 'hello everyone, love this song') : roomGiftFrame('room-42', 1000 + i, ts + i, 'u_1234567890abcdef0123', 'rose', 3, 30, 12_345)));
  progress.update(1);
  const encodeMsgpackr = rate(p.iterations, (i) => {
    const f = chat(i);
    f[0] = i % 2 ? 80 : 83;
    return packr.pack(i % 2 ? f : [83, 'room-42', 1000 + i, ts + i, 'u_1234567890abcdef0123', 'rose', 3, 30, 12_345]);
  });
  progress.update(2);
  const frames = Object.values(vectors.client).map((v) => Buffer.from(v.hex, 'hex'));
  const plain = new Decoder();
  const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });
  const decodeOurs = rate(p.iterations, (i) => decodeClientFrame(frames[i % frames.length]!));
  progress.update(3);
  const decodePlain = rate(p.iterations, (i) => plain.decode(frames[i % frames.length]!));
  progress.update(4);
  const decodeMsgpackr = rate(p.iterations, (i) => unpackr.unpack(frames[i % frames.length]!));
  progress.done();

  const rows = [
    { path: 'encode room events', '@msgpack/msgpack /s': encodeOurs, 'msgpackr /s': encodeMsgpackr, ratio: +(encodeMsgpackr / encodeOurs).toFixed(2) },
    { path: 'decode client frames (ours: limits + strict UTF-8)', '@msgpack/msgpack /s': decodeOurs, 'msgpackr /s': decodeMsgpackr, ratio: +(decodeMsgpackr / decodeOurs).toFixed(2) },
    { path: 'decode client frames (both plain)', '@msgpack/msgpack /s': decodePlain, 'msgpackr /s': decodeMsgpackr, ratio: +(decodeMsgpackr / decodePlain).toFixed(2) },
  ];
  console.table(rows);
  const svg = lineChart({
    title: 'codec: operations per second by path (0 = encode, 1 = decode with our checks, 2 = decode plain)', xLabel: 'path', yLabel: 'operations per second',
    series: [
      { name: '@msgpack/msgpack', points: rows.map((r, i) => ({ x: i, y: r['@msgpack/msgpack /s'] })) },
      { name: 'msgpackr', points: rows.map((r, i) => ({ x: i, y: r['msgpackr /s'] })) },
    ],
  });
  const result = { scenario: 'codec', params: p, vectors: all.length, notIdentical: identity, rows };
  console.log(`results: ${writeResult('codec', result, svg).join(', ')}`);
  return result;
}
