/**
 * Privacy: what an export and an erasure cost, and how they grow with the user's own data and with
 * everyone else's. Stores on SQLite in a temporary folder hold a background of other users' chat; then,
 * for users of growing size (chat messages, DMs, gifts, notifications), it times the export (every store
 * read and packed into the zip by the archive worker) and the erasure (every store rewritten), and checks
 * after each erasure that the user's messages are gone and the ledger still conserves every coin. Prints a
 * table, writes bench/results/privacy-<time>.json and an .svg of time against the user's size.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteRealtimeStore } from '../adapters/store/realtime-store-sqlite';
import { emptyBatch } from '../adapters/store/realtime-store';
import { SqliteLedger } from '../adapters/ledger/ledger-sqlite';
import { SqliteNotificationStore } from '../adapters/notifications/notification-store-sqlite';
import { SqliteFollowStore } from '../adapters/social/follow-store-sqlite';
import { roomChatFrame } from '../protocol/codec';
import { eraseAll, exportAll, holder, realtimeData, walletData } from '../privacy/data-holders';
import buildArchive from '../privacy/export-archive-worker';
import { Progress } from './progress';
import { writeResult } from './results';
import { lineChart } from './svg-chart';

/** Others' chat events in the stores; the first user's size; how many users, each ten times the last. */
export interface PrivacyParams { background: number; smallest: number; steps: number }
export const privacyDefaults: PrivacyParams = { background: 500_000, smallest: 100, steps: 3 };
export const privacyQuick: PrivacyParams = { background: 20_000, smallest: 50, steps: 2 };

interface Row { messages: number; exportMs: number; archiveMs: number; archiveBytes: number; eraseMs: number; erasedRows: number }

export async function runPrivacy(p: PrivacyParams): Promise<unknown> {
  const sizes = Array.from({ length: p.steps }, (_, k) => p.smallest * 10 ** k);
  const dir = mkdtempSync(join(tmpdir(), 'hb-bench-privacy-'));
  const realtime = new SqliteRealtimeStore(join(dir, 'realtime.sqlite'));
  const ledger = new SqliteLedger(join(dir, 'ledger.sqlite'));
  const notifications = new SqliteNotificationStore(join(dir, 'notifications.sqlite'));
  const follows = new SqliteFollowStore(join(dir, 'social.sqlite'));
  const holders = [
    holder('messages', 'chat and DMs', realtimeData(realtime)),
    holder('wallet', 'the wallet', walletData(ledger)),
    holder('notifications', 'notifications', notifications),
    holder('social', 'follows', follows),
  ];
  try {
    const seed = new Progress('background chat', p.background);
    for (let done = 0; done < p.background;) {
      const b = emptyBatch();
      for (let i = 0; i < 2000 && done < p.background; i++, done++) {
        const room = `room-${done % 200}`;
        const seq = Math.floor(done / 200) + 1;
        const sender = `u_other${String(done % 5000).padStart(15, '0')}`;
        b.roomEvents.push({ room, seq, ts: done, sender, frame: roomChatFrame(room, seq, done, sender, `hello from the crowd ${done}`) });
      }
      await realtime.commit(b);
      seed.update(done);
    }
    seed.done();
    await ledger.apply({ kind: 'mint', opId: 'bench-mint-creator', user: 'u_creator00000000000', amount: 1, source: 'bench' });
    const rows: Row[] = [];
    let seqBase = Math.floor(p.background / 200) + 10;
    for (const n of sizes) {
      const user = `u_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
      const b = emptyBatch();
      for (let i = 0; i < n; i++) {
        const room = `room-${i % 200}`;
        const seq = seqBase + Math.floor(i / 200);
        b.roomEvents.push({ room, seq, ts: i, sender: user, frame: roomChatFrame(room, seq, i, user, `my message ${i}`) });
        if (i % 10 === 0) b.inbox.push({ user: 'u_friend000000000000', seq: seqBase * 1000 + i, ts: i, from: user, text: `dm ${i}` });
      }
      seqBase += Math.ceil(n / 200) + 1;
      await realtime.commit(b);
      await ledger.apply({ kind: 'mint', opId: `bench-mint-${user}`, user, amount: n * 10, source: 'bench' });
      for (let i = 0; i < Math.max(1, n / 10); i++) {
        await ledger.apply({ kind: 'gift', opId: `bench-gift-${randomUUID()}`, sender: user, creator: 'u_creator00000000000', room: 'room-1', stream: 's1', giftId: 'rose', count: 1, unitPrice: 1, platformShareBps: 3000 });
        await notifications.add({ id: `bench-n-${randomUUID()}`, user, kind: 'dm', data: { from: 'u_friend000000000000', fromName: 'Friend' }, createdAt: i, readAt: null });
      }
      await follows.follow(user, 'u_creator00000000000', 1);

      let t0 = performance.now();
      const parts = await exportAll(holders, user);
      const exportMs = performance.now() - t0;
      const staging = mkdtempSync(join(dir, 'staging-'));
      for (const [store, part] of Object.entries(parts)) writeFileSync(join(staging, `${store}.json`), JSON.stringify(part));
      t0 = performance.now();
      const archiveBytes = buildArchive({ stagingDir: staging, files: Object.keys(parts).map((s) => `${s}.json`), readme: '# bench', out: join(dir, `${user}.zip`) });
      const archiveMs = performance.now() - t0;
      const exported = (parts.messages!.room_messages ?? []).length;
      if (exported !== n) throw new Error(`the export holds ${exported} of ${n} messages`);

      t0 = performance.now();
      const counts = await eraseAll(holders, { user, pseudonym: `x_${randomUUID().replace(/-/g, '').slice(0, 20)}`, aliases: [] });
      const eraseMs = performance.now() - t0;
      const left = (await realtime.exportUser(user)).room_messages!.length;
      const totals = await ledger.totals();
      if (left !== 0) throw new Error(`${left} messages survived the erasure`);
      if (totals.held !== totals.issued) throw new Error('the erasure broke the conservation of coins');
      const erasedRows = Object.values(counts).flatMap((c) => Object.values(c)).reduce((a, v) => a + v, 0);
      rows.push({ messages: n, exportMs, archiveMs, archiveBytes, eraseMs, erasedRows });
      console.log(`user with ${n} messages: export ${exportMs.toFixed(0)} ms + zip ${archiveMs.toFixed(0)} ms (${archiveBytes} bytes), erasure ${eraseMs.toFixed(0)} ms (${erasedRows} rows), among ${p.background} others' events`);
    }
    console.table(rows.map((r) => ({ messages: r.messages, 'export ms': Math.round(r.exportMs), 'zip ms': Math.round(r.archiveMs), 'zip KB': Math.round(r.archiveBytes / 1024), 'erase ms': Math.round(r.eraseMs), 'rows erased': r.erasedRows })));
    const svg = lineChart({
      title: `privacy: export and erasure time by the user's size (${p.background} others' events)`, xLabel: "the user's chat messages", yLabel: 'ms',
      series: [
        { name: 'export (read every store)', points: rows.map((r) => ({ x: r.messages, y: r.exportMs })) },
        { name: 'zip (archive worker)', points: rows.map((r) => ({ x: r.messages, y: r.archiveMs })) },
        { name: 'erasure (every store)', points: rows.map((r) => ({ x: r.messages, y: r.eraseMs })) },
      ],
    });
    const result = { scenario: 'privacy', params: p, rows };
    console.log(`results: ${writeResult('privacy', result, svg).join(', ')}`);
    return result;
  } finally {
    await Promise.all([realtime.close(), ledger.close(), notifications.close(), follows.close()]);
    rmSync(dir, { recursive: true, force: true });
  }
}
