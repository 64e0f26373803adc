/**
 * The actor supervisor with real worker threads: commands reach the worker that owns their shard and
 * come back as effects in order; a crashed worker is restarted and asked for its re-attach commands;
 * past the restart budget the pool gives up (the process then exits); drain lets the workers finish.
 */
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkerPool, type WorkerPoolHandlers } from './worker-pool';
import { Eff, cmd, type Command, type Effect } from './messages';
import { Role, ServerOp } from '../protocol/codes';
import { decode } from '../protocol/codec';
import { waitFor } from '../tools/server-process';
import { readFilterConfig } from '../moderation/chat-filter';

function pool(budget: number, handlers: Partial<WorkerPoolHandlers> & { effects: Effect[] }) {
  const dir = mkdtempSync(join(tmpdir(), 'hb-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return new WorkerPool({
    workers: 2, shards: 8, restartBudget: budget, restartWindowMs: 60_000,
    init: {
      store: { kind: 'sqlite', file: join(dir, 'realtime.sqlite') },
      ledger: { mongodbUrl: null, dataDir: dir, leaseMs: 1000 },
      catalog: { version: 1, gifts: [{ id: 'rose', name: 'Rose', price: 1, tier: 1 }] },
      games: null,
      moderation: { filter: readFilterConfig(join(__dirname, '..', '..', 'config', 'moderation.json')), follows: { kind: 'sqlite', file: join(dir, 'social.sqlite') } },
      statsIntervalMs: 100,
      log: { level: 'silent', pretty: false, base: {} },
      host: {
        throughputPerTurn: 64, presenceIntervalMs: 50, passivateAfterMs: 60_000,
        room: { mailboxCapacity: 100, historyLimit: 50, maxChatChars: 500, platformShareBps: 3000, leaderboardSize: 10, analytics: false },
        user: { mailboxCapacity: 100, maxDmChars: 2000, maxPendingInbox: 100 },
      },
    },
  }, {
    onEffects: (e) => void handlers.effects.push(...e),
    onRestarted: handlers.onRestarted ?? (() => []),
    onStats: handlers.onStats ?? (() => undefined),
    onCrash: handlers.onCrash ?? (() => undefined),
    onBudgetExhausted: handlers.onBudgetExhausted ?? (() => undefined),
  });
}

/** Worker threads start slowly on a loaded machine: ten seconds by default. */
const until = (what: string, ok: () => boolean, ms = 10_000) => waitFor(what, ok, ms);
const replies = (effects: Effect[], conn: number) => effects.filter((e): e is [typeof Eff.SEND, number, Uint8Array] => e[0] === Eff.SEND && e[1] === conn).map((e) => decode(e[2]) as unknown[]);

t.test('commands reach the owning worker; its effects come back in order', async (t) => {
  const effects: Effect[] = [];
  const p = pool(3, { effects });
  await p.start();
  t.teardown(() => p.drain(2000));
  t.ok(p.allReady);
  p.send(cmd.join({ conn: 1, user: 'host', room: 'r1', role: Role.HOST, ref: 1, sinceSeq: -1, reattach: false }));
  for (let i = 0; i < 5; i++) p.send(cmd.chat({ conn: 1, user: 'host', room: 'r1', ref: 10 + i, text: `m${i}` }));
  await until('six replies', () => replies(effects, 1).filter((f) => f[0] === ServerOp.REPLY).length === 6);
  const seqs = replies(effects, 1).filter((f) => f[0] === ServerOp.REPLY && (f[1] as number) >= 10).map((f) => (f[2] as { seq: number }).seq);
  t.same(seqs, [2, 3, 4, 5, 6], 'chats sequenced in send order after the stream start');
  t.ok(effects.some((e) => e[0] === Eff.SUBSCRIBE && e[1] === 1 && e[2] === 'r1'), 'the join subscribed the connection');
  t.equal(p.workerOf('room', 'r1'), p.shardMap.workerOf('room', 'r1'));
});

t.test('a crashed worker is restarted and asked to re-attach; commands sent meanwhile are kept', async (t) => {
  const effects: Effect[] = [];
  const crashes: number[] = [];
  const restarted: number[] = [];
  // Declared before the pool so the crash handler can send through it the moment the worker is known down.
  let sendWhileDown = () => undefined as void;
  const p = pool(3, {
    effects,
    onCrash: (i) => {
      crashes.push(i);
      sendWhileDown();
    },
    onRestarted: (i) => {
      restarted.push(i);
      return [cmd.join({ conn: 7, user: 'viewer', room: 'r2', role: Role.VIEWER, ref: 0, sinceSeq: -1, reattach: true })];
    },
  });
  await p.start();
  t.teardown(() => p.drain(2000));
  const w = p.workerOf('room', 'r2');
  p.send(cmd.join({ conn: 7, user: 'viewer', room: 'r2', role: Role.VIEWER, ref: 1, sinceSeq: -1, reattach: false }));
  await until('joined', () => replies(effects, 7).length >= 1);
  // A command already handed to the worker dies with it (its client times out and retries); one sent
  // while the worker is known to be down waits in the outbox and is delivered after the re-attach.
  sendWhileDown = () => p.send(cmd.chat({ conn: 7, user: 'viewer', room: 'r2', ref: 2, text: 'while it was down' }) as Command);
  t.ok(p.crash(w));
  await until('restarted', () => restarted.length === 1);
  t.same(crashes, [w]);
  t.same(restarted, [w]);
  await until('the chat sent during the restart is answered', () => replies(effects, 7).some((f) => f[1] === 2));
  t.equal(replies(effects, 7).find((f) => f[1] === 2)![0], ServerOp.REPLY, 'accepted: the re-attach came first');
});

t.test('past the restart budget the pool gives up', async (t) => {
  const effects: Effect[] = [];
  const exhausted: number[] = [];
  const restarted: number[] = [];
  const p = pool(1, { effects, onBudgetExhausted: (i) => void exhausted.push(i), onRestarted: (i) => (restarted.push(i), []) });
  await p.start();
  t.teardown(() => p.drain(2000));
  p.crash(0);
  await until('the first crash is within the budget: restarted', () => restarted.length === 1 && p.allReady, 10_000);
  p.crash(0);
  await until('budget exhausted', () => exhausted.length === 1, 10_000);
  t.same(exhausted, [0]);
});
