/**
 * The compiled viewers (bench/loadgen) count and time exactly what a Node sender sends, on HaloBuzz and on
 * the Socket.IO baseline, over real sockets; their MessagePack passes the golden vectors (`go test`).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { CompiledViewers } from './loadgen';
import { connect } from './drivers';
import { nowMs } from './load-client';
import { startTarget, type TargetName } from './targets';
import { socketUrl } from './scenarios';
import { waitFor } from '../tools/server-process';
import { goAvailable } from '../test/helpers/services';

if (goAvailable(t)) {
  t.test('the generator\'s MessagePack reads every golden server frame and writes the viewer\'s requests byte for byte', async (t) => {
    const out = execFileSync('go', ['test', './...'], { cwd: join(__dirname, '..', '..', 'bench', 'loadgen'), encoding: 'utf8' });
    t.match(out, /^ok\s/m, 'go test passes');
  });

  for (const name of ['halobuzz', 'socketio'] as TargetName[]) {
    t.test(`compiled viewers on ${name}: every chat counted once, each with its latency`, async (t) => {
      const target = await startTarget(name, { workers: 1 });
      t.teardown(() => target.server.stop());
      const room = 'loadgen-test';
      const viewerCount = 5;
      let progressSeen = 0;
      const viewers = await CompiledViewers.start({
        protocol: target.protocol, url: socketUrl(target), room,
        tokens: Array.from({ length: viewerCount }, (_, i) => target.server.token(`lg-viewer${i}`)),
        sources: [],
        onProgress: (n) => (progressSeen = Math.max(progressSeen, n)),
      });
      t.teardown(() => viewers.kill());
      const sender = await connect(target, 'lg-sender', { onChat: () => undefined, onGift: () => undefined });
      await sender.join(room, true);
      const chats = 7;
      const sentAt: number[] = [];
      for (let i = 0; i < chats; i++) {
        sentAt.push(nowMs());
        sender.chat(room, `${nowMs().toFixed(3)}|payload ${i}`);
      }
      sender.chat(room, 'a chat without a timestamp');
      await waitFor('every viewer has every chat', () => viewers.received() >= (chats + 1) * viewerCount, 20_000);
      const cpuBefore = viewers.cpuSeconds();
      const cut = await viewers.cut();
      t.equal(cut.received, (chats + 1) * viewerCount, 'each viewer counted each chat once');
      t.equal(cut.latencies.length, chats * viewerCount, 'a latency for every timestamped chat, none for the other');
      const waited = nowMs() - sentAt[0]!;
      t.ok([...cut.latencies].every((ms) => ms >= 0 && ms <= waited), `every latency between 0 and the ${Math.round(waited)} ms since the first send`);
      // After a cut the viewers stay: the next chats are counted on, and only their samples come next.
      sender.chat(room, `${nowMs().toFixed(3)}|after the cut`);
      await waitFor('the chat after the cut', () => viewers.received() >= (chats + 2) * viewerCount, 20_000);
      const done = await viewers.stop();
      sender.close();
      t.equal(done.received, (chats + 2) * viewerCount, 'counting went on after the cut');
      t.equal(done.latencies.length, viewerCount, 'the samples after the cut, and only those');
      t.ok(done.cpuSeconds >= cpuBefore && done.cpuSeconds > 0, 'the generator reports its own CPU time');
    });
  }

  t.test('viewers spread over rooms get only their own room\'s chats', async (t) => {
    const target = await startTarget('halobuzz', { workers: 1 });
    t.teardown(() => target.server.stop());
    const viewers = await CompiledViewers.start({
      protocol: 'msgpack', url: target.server.url, room: 'spread', roomCount: 2, sources: [],
      tokens: Array.from({ length: 6 }, (_, i) => target.server.token(`lg-spread${i}`)),
    });
    t.teardown(() => viewers.kill());
    const sender = await connect(target, 'lg-spread-host', { onChat: () => undefined, onGift: () => undefined });
    await sender.join('spread0', true);
    for (let i = 0; i < 4; i++) sender.chat('spread0', `${nowMs().toFixed(3)}|to room 0`);
    await waitFor('room 0\'s three viewers have the four chats', () => viewers.received() >= 12, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const done = await viewers.stop();
    sender.close();
    t.equal(done.received, 12, 'viewers 0, 2 and 4 (room spread0) got each chat; 1, 3 and 5 (spread1) none');
  });

  t.test('a refused token fails the start with the server\'s reason', async (t) => {
    const target = await startTarget('halobuzz', { workers: 1 });
    t.teardown(() => target.server.stop());
    await t.rejects(CompiledViewers.start({ protocol: 'msgpack', url: target.server.url, room: 'r', tokens: ['not-a-token'], sources: [] }), /load generator: .*hello/);
  });
}
