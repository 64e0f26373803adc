/**
 * Ledger growth: the money path measured at the store, with 0, postings/10 and `postings` postings already
 * in it, on the embedded SQLite ledger and (with MONGODB_URL) on MongoDB (FerretDB here). At each size:
 * - gifts/s and apply latency with `callers` senders each keeping one gift in flight to one creator (the
 *   shape of one busy room, whose gifts a room actor applies as they arrive);
 * - what a process pays to start on a ledger that size: `recover()` (runs at start and every lease on
 *   each node), the first balance read of an account it has not seen, and `giftsForStream` (every room
 *   actor's rebuild) of the room just measured (a fresh room per size, so its own length stays the same).
 * The rate should not fall as the ledger grows; anything that does is a scan. Writes
 * bench/results/ledger-<time>.json and a chart of gifts/s against existing postings.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { SqliteLedger } from '../adapters/ledger/ledger-sqlite';
import { MongoLedger } from '../adapters/ledger/ledger-mongo';
import { userAccount, type Ledger, type LedgerOp } from '../adapters/ledger/ledger';
import { LatencyRecorder } from './latency';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

export interface LedgerParams {
  /** The largest ledger measured, in postings (a gift with a platform share is three). */
  postings: number;
  callers: number;
  seconds: number;
  workers: number;
}

export const ledgerDefaults: LedgerParams = { postings: 1_000_000, callers: 50, seconds: 5, workers: 2 };
export const ledgerQuick: LedgerParams = { postings: 3_000, callers: 8, seconds: 1, workers: 2 };

interface StoreUnderTest {
  readonly name: string;
  open(): Promise<Ledger>;
  cleanup(): Promise<void>;
}

const gift = (sender: string, creator: string, room: string): LedgerOp => ({
  kind: 'gift', opId: randomUUID(), sender, creator, room, stream: `${room}-s1`, giftId: 'rose', count: 1, unitPrice: 10, platformShareBps: 3000,
});

/** Fills the ledger with gifts among 100 other users in 500 other rooms until it holds `postings`. */
async function fill(ledger: Ledger, label: string, from: number, postings: number): Promise<void> {
  if (postings <= from) return;
  const fillers = 100;
  if (from === 0) {
    for (let i = 0; i < fillers; i++) await ledger.apply({ kind: 'mint', opId: `mint-filler-${i}-${randomUUID()}`, user: `filler${i}`, amount: 1e12, source: 'bench' });
  }
  const progress = new Progress(`${label}: filling to ${postings.toLocaleString('en')} postings`, postings);
  let written = from + (from === 0 ? 2 * fillers : 0);
  let n = 0;
  const inFlight = 256;
  await Promise.all(Array.from({ length: inFlight }, async () => {
    while (written < postings) {
      const i = n++;
      const r = await ledger.apply(gift(`filler${i % fillers}`, `filler${(i * 7 + 1) % fillers}`, `fill-room-${i % 500}`));
      if (!r.ok) throw new Error(`filling: ${r.code}`);
      written += r.entry.postings.length;
      if (i % 500 === 0) progress.update(written);
    }
  }));
  progress.done();
}

async function measure(ledger: Ledger, p: LedgerParams, round: number): Promise<{ giftsPerSecond: number; latencyMs: ReturnType<LatencyRecorder['summary']> }> {
  const latency = new LatencyRecorder();
  for (let i = 0; i < p.callers; i++) await ledger.apply({ kind: 'mint', opId: `mint-fan-${round}-${i}-${randomUUID()}`, user: `fan${i}`, amount: 1e9, source: 'bench' });
  let done = 0;
  const started = performance.now();
  const deadline = started + p.seconds * 1000;
  await Promise.all(Array.from({ length: p.callers }, async (_, i) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      const r = await ledger.apply(gift(`fan${i}`, 'creator', `measured-room-${round}`));
      if (!r.ok) throw new Error(`gift refused: ${r.code}`);
      latency.record(performance.now() - t0);
      done++;
    }
  }));
  return { giftsPerSecond: Math.round(done / ((performance.now() - started) / 1000)), latencyMs: latency.summary() };
}

/** What a fresh process pays on this ledger: recovery, a cold balance read, a room's rebuild. */
async function coldStart(store: StoreUnderTest, round: number): Promise<Record<string, number>> {
  const ledger = await store.open();
  try {
    const time = async (f: () => Promise<unknown>) => {
      const t0 = performance.now();
      await f();
      return Math.round((performance.now() - t0) * 10) / 10;
    };
    return {
      recoverMs: await time(() => ledger.recover()),
      recoverAgainMs: await time(() => ledger.recover()),
      coldBalanceMs: await time(() => ledger.balance(userAccount('fan0'))),
      roomRebuildMs: await time(() => ledger.giftsForStream(`measured-room-${round}`, `measured-room-${round}-s1`)),
    };
  } finally {
    await ledger.close();
  }
}

async function runStore(store: StoreUnderTest, p: LedgerParams): Promise<Record<string, unknown>> {
  const sizes = [0, Math.round(p.postings / 10), p.postings];
  const steps: Record<string, unknown>[] = [];
  const ledger = await store.open();
  try {
    let filled = 0;
    for (const [round, size] of sizes.entries()) {
      await fill(ledger, store.name, filled, size);
      filled = Math.max(filled, size);
      const totals = await ledger.totals();
      const rate = await measure(ledger, p, round);
      const cold = await coldStart(store, round);
      const step = { existingEntries: totals.entries, existingPostingsAtLeast: size, ...rate, ...cold };
      console.error(`${store.name}: ${size.toLocaleString('en')} postings → ${rate.giftsPerSecond} gifts/s, p99 ${rate.latencyMs.p99} ms; start: recover ${cold.recoverMs} ms, cold balance ${cold.coldBalanceMs} ms, room rebuild ${cold.roomRebuildMs} ms`);
      steps.push(step);
    }
    const end = await ledger.totals();
    return { store: store.name, steps, conserved: end.held === end.issued && end.pending === 0 };
  } finally {
    await ledger.close();
    await store.cleanup();
  }
}

function sqliteStore(): StoreUnderTest {
  const dir = mkdtempSync(join(tmpdir(), 'hb-bench-ledger-'));
  return { name: 'sqlite', open: async () => new SqliteLedger(join(dir, 'ledger.sqlite')), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

function mongoStore(base: string): StoreUnderTest {
  const url = new URL(base);
  url.pathname = `/bench_ledger_${Date.now()}`;
  const dbUrl = url.toString();
  return {
    name: 'mongodb',
    open: () => MongoLedger.connect({ url: dbUrl, leaseMs: 30_000 }),
    cleanup: async () => {
      const c = new MongoClient(dbUrl);
      await c.connect();
      await c.db().dropDatabase();
      await c.close();
    },
  };
}

export async function runLedger(p: LedgerParams, mongodbUrl: string | undefined): Promise<unknown> {
  const runs = [await runStore(sqliteStore(), p)];
  if (mongodbUrl) runs.push(await runStore(mongoStore(mongodbUrl), p));
  else console.error('MONGODB_URL not set: MongoDB store not measured (deploy/local/services up; eval "$(deploy/local/services env)")');
  const result = { scenario: 'ledger', params: p, runs };
  const svg = lineChart({
    title: `gifts/s at the store as the ledger grows (${p.callers} callers)`, xLabel: 'existing postings', yLabel: 'gifts/s',
    series: runs.map((r) => ({ name: String(r.store), points: (r.steps as { existingPostingsAtLeast: number; giftsPerSecond: number }[]).map((s) => ({ x: s.existingPostingsAtLeast, y: s.giftsPerSecond })) })),
  });
  console.log(JSON.stringify(result, null, 2));
  console.log(`results: ${writeResult('ledger', result, svg).join(', ')}`);
  if (runs.some((r) => !r.conserved)) throw new Error('coins not conserved');
  return result;
}
