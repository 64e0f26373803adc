/**
 * The RealtimeStore contract as a tap suite. Every implementation runs it (SQLite now; the MongoDB
 * adapter reuses it against FerretDB).
 */
import type { Test } from 'tap';
import { encode } from '@msgpack/msgpack';
import { emptyBatch, type RealtimeStore } from './realtime-store';

export function realtimeStoreConformance(t: Test, name: string, open: () => Promise<RealtimeStore>): void {
  t.test(`${name}: a user's room events and DMs are exported; erasure rewrites every event naming them, drops their inbox, blanks DMs they sent`, async (t) => {
    const s = await open();
    t.teardown(() => s.close());
    const gone = `u_gone${Math.random().toString(36).slice(2, 10)}`;
    const room = `pd-${Math.random().toString(36).slice(2, 10)}`;
    const b = emptyBatch();
    // Sequenced events name their sender at index 4 (docs/protocol.md), as the real frames do.
    b.roomEvents.push({ room, seq: 1, ts: 11, sender: gone, frame: encode([80, room, 1, 11, gone, 'my words']) });
    b.roomEvents.push({ room, seq: 2, ts: 12, sender: 'pal', frame: encode([80, room, 2, 12, 'pal', 'pal words']) });
    b.roomEvents.push({ room, seq: 3, ts: 13, sender: 'pal', frame: encode([83, room, 3, 13, 'pal', 'rose', 1, 10, 10, gone]) });
    b.roomOwners.push({ room, owner: gone });
    b.inbox.push({ user: gone, seq: 1, ts: 20, from: 'pal', text: 'to gone' });
    b.inbox.push({ user: 'pal', seq: 1, ts: 21, from: gone, text: 'from gone' });
    await s.commit(b);
    const exported = await s.exportUser(gone);
    t.same(exported.room_messages!.map((m) => (m as { seq: number }).seq), [1], 'the event they sent');
    t.match(exported.direct_messages_received, [{ from: 'pal', text: 'to gone' }]);
    t.match(exported.direct_messages_sent, [{ to: 'pal', text: 'from gone' }]);
    const rewritten: number[] = [];
    const counts = await s.eraseUser({ user: gone, pseudonym: 'x_1', aliases: [] }, (ev) => {
      rewritten.push(ev.seq);
      return encode(['erased', ev.seq]);
    });
    t.same(rewritten.sort(), [1, 3], 'their event and the one naming them, not the other');
    t.equal(counts.room_events, 2);
    const snap = await s.loadRoom(room, 10);
    t.same(snap.history.map((h) => h.frame.length > 0), [true, true, true], 'every seq still there (no gap)');
    t.notOk(snap.history.some((h) => Buffer.from(h.frame).includes(Buffer.from(gone))), 'no stored frame names them');
    t.equal(snap.owner, 'x_1', 'the room owner is pseudonymised');
    t.same((await s.loadInbox(gone, 10)).pending, [], 'their inbox is gone');
    t.match((await s.loadInbox('pal', 10)).pending, [{ from: 'x_1', text: '' }], 'what they sent is blanked and pseudonymised');
  });

  t.test(`${name}: room events, owner and seq survive a reopen`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    b.roomOwners.push({ room: 'r1', owner: 'alice' });
    for (let seq = 1; seq <= 5; seq++) b.roomEvents.push({ room: 'r1', seq, ts: 1000 + seq, sender: 'alice', frame: new Uint8Array([seq]) });
    await store.commit(b);
    const snap = await store.loadRoom('r1', 3);
    t.equal(snap.owner, 'alice');
    t.equal(snap.seq, 5);
    t.same(snap.history.map((h) => h.seq), [3, 4, 5], 'newest events, oldest first');
    t.same([...snap.history[2]!.frame], [5]);
  });

  t.test(`${name}: replaying a batch changes nothing; the first owner wins`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    b.roomOwners.push({ room: 'r2', owner: 'alice' });
    b.roomEvents.push({ room: 'r2', seq: 1, ts: 1, sender: 'alice', frame: new Uint8Array([1]) });
    await store.commit(b);
    await store.commit(b);
    const other = emptyBatch();
    other.roomOwners.push({ room: 'r2', owner: 'mallory' });
    other.roomEvents.push({ room: 'r2', seq: 1, ts: 2, sender: 'mallory', frame: new Uint8Array([9]) });
    await store.commit(other);
    const snap = await store.loadRoom('r2', 10);
    t.equal(snap.owner, 'alice');
    t.same(snap.history.map((h) => [...h.frame]), [[1]]);
  });

  t.test(`${name}: pruning keeps the seq; an unknown room is empty`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    for (let seq = 1; seq <= 4; seq++) b.roomEvents.push({ room: 'r3', seq, ts: seq, sender: 'a', frame: new Uint8Array([seq]) });
    b.roomPrunes.push({ room: 'r3', belowSeq: 4 });
    await store.commit(b);
    const snap = await store.loadRoom('r3', 10);
    t.equal(snap.seq, 4);
    t.same(snap.history.map((h) => h.seq), [4]);
    t.same(await store.loadRoom('nope', 10), { owner: null, seq: 0, stream: null, streamGifts: [], history: [], applied: -1, state: [] });
  });

  t.test(`${name}: a live stream and its gift events survive pruning`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    b.roomStreams.push({ room: 'r4', stream: 'r4.1', startSeq: 1 });
    b.roomEvents.push({ room: 'r4', seq: 1, ts: 1, sender: 'host', frame: new Uint8Array([1]) });
    b.roomEvents.push({ room: 'r4', seq: 2, ts: 2, sender: 'fan', frame: new Uint8Array([2]), opId: 'gift-op-1' });
    b.roomEvents.push({ room: 'r4', seq: 3, ts: 3, sender: 'fan', frame: new Uint8Array([3]) });
    b.roomPrunes.push({ room: 'r4', belowSeq: 4 });
    await store.commit(b);
    const snap = await store.loadRoom('r4', 10);
    t.equal(snap.stream, 'r4.1');
    t.same(snap.streamGifts, [{ opId: 'gift-op-1', seq: 2 }], 'the gift event was not pruned');
    const end = emptyBatch();
    end.roomStreams.push({ room: 'r4', stream: null, startSeq: 0 });
    await store.commit(end);
    const ended = await store.loadRoom('r4', 10);
    t.equal(ended.stream, null);
    t.same(ended.streamGifts, []);
  });

  t.test(`${name}: inbox keeps order, acks move forward only and never past the last message`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    for (let seq = 1; seq <= 3; seq++) b.inbox.push({ user: 'bob', seq, ts: seq, from: 'alice', text: `m${seq}` });
    await store.commit(b);
    let inbox = await store.loadInbox('bob', 100);
    t.same(inbox.pending.map((m) => m.text), ['m1', 'm2', 'm3']);
    t.equal(inbox.lastSeq, 3);
    const ack = emptyBatch();
    ack.inboxAcks.push({ user: 'bob', upTo: 2 });
    await store.commit(ack);
    const back = emptyBatch();
    back.inboxAcks.push({ user: 'bob', upTo: 1 });
    await store.commit(back);
    inbox = await store.loadInbox('bob', 100);
    t.equal(inbox.ackedSeq, 2);
    t.same(inbox.pending.map((m) => m.seq), [3]);
    const far = emptyBatch();
    far.inboxAcks.push({ user: 'bob', upTo: 99 });
    await store.commit(far);
    inbox = await store.loadInbox('bob', 100);
    t.equal(inbox.ackedSeq, 3);
    t.same(inbox.pending, []);
  });

  t.test(`${name}: the applied command position only moves forward`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    b.roomApplied.push({ room: 'r5', position: 41 }, { room: 'r5', position: 42 });
    await store.commit(b);
    const back = emptyBatch();
    back.roomApplied.push({ room: 'r5', position: 7 });
    await store.commit(back);
    const snap = await store.loadRoom('r5', 10);
    t.equal(snap.applied, 42, 'a replayed older batch does not move it back');
    t.equal(snap.seq, 0, 'positions are not seqs');
    const inbox = emptyBatch();
    inbox.inboxApplied.push({ user: 'u5', position: 9 });
    await store.commit(inbox);
    const older = emptyBatch();
    older.inboxApplied.push({ user: 'u5', position: 3 });
    await store.commit(older);
    t.equal((await store.loadInbox('u5', 10)).applied, 9, 'an inbox keeps its newest position too');
    t.equal((await store.loadInbox('nobody', 10)).applied, -1);
  });

  t.test(`${name}: a redaction replaces a stored event's frame at its seq; one event reads back by seq`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    for (let seq = 1; seq <= 3; seq++) b.roomEvents.push({ room: 'r7', seq, ts: seq, sender: 'ann', frame: new Uint8Array([seq]) });
    await store.commit(b);
    const redact = emptyBatch();
    redact.roomRedactions.push({ room: 'r7', seq: 2, frame: new Uint8Array([9, 9]) }, { room: 'r7', seq: 40, frame: new Uint8Array([9]) });
    await store.commit(redact);
    await store.commit(redact);
    const snap = await store.loadRoom('r7', 10);
    t.same(snap.history.map((h) => [h.seq, [...h.frame]]), [[1, [1]], [2, [9, 9]], [3, [3]]], 'same seqs, the redacted one holds its tombstone');
    t.equal(snap.seq, 3, 'a redaction of a seq never stored adds nothing');
    t.same(await store.roomEvent('r7', 2), { seq: 2, frame: new Uint8Array([9, 9]) });
    t.same(await store.roomEvent('r7', 3), { seq: 3, frame: new Uint8Array([3]) });
    t.equal(await store.roomEvent('r7', 40), null);
    t.equal(await store.roomEvent('nope', 1), null);
  });

  t.test(`${name}: keyed room state (games, moderation) keeps its newest rev; a null state removes it`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    b.roomState.push({ room: 'r6', key: 'wheel', rev: 1, state: '{"v":1}' }, { room: 'r6', key: 'duel:d1', rev: 2, state: '{"d":1}' });
    b.roomState.push({ room: 'r6', key: 'wheel', rev: 3, state: '{"v":3}' });
    await store.commit(b);
    const older = emptyBatch();
    older.roomState.push({ room: 'r6', key: 'wheel', rev: 2, state: '{"v":2}' });
    await store.commit(older);
    t.same((await store.loadRoom('r6', 10)).state, [{ key: 'duel:d1', rev: 2, state: '{"d":1}' }, { key: 'wheel', rev: 3, state: '{"v":3}' }], 'a replayed older write changes nothing');
    const done = emptyBatch();
    done.roomState.push({ room: 'r6', key: 'duel:d1', rev: 4, state: null });
    await store.commit(done);
    const again = emptyBatch();
    again.roomState.push({ room: 'r6', key: 'duel:d1', rev: 2, state: '{"d":1}' });
    await store.commit(again);
    t.same((await store.loadRoom('r6', 10)).state, [{ key: 'wheel', rev: 3, state: '{"v":3}' }], 'a finished game stays removed');
  });

  t.test(`${name}: the notification outbox keeps each id once, oldest first, until acknowledged`, async (t) => {
    const store = await open();
    t.teardown(() => store.close());
    const b = emptyBatch();
    b.notify.push({ id: 'dm:bob:2', user: 'bob', kind: 'dm', data: { from: 'ann' }, at: 20 }, { id: 'dm:bob:1', user: 'bob', kind: 'dm', data: { from: 'ann' }, at: 10 });
    await store.commit(b);
    await store.commit(b);
    const pending = await store.pendingNotifications(10);
    t.same(pending.filter((n) => n.id.startsWith('dm:bob:')), [
      { id: 'dm:bob:1', user: 'bob', kind: 'dm', data: { from: 'ann' }, at: 10 },
      { id: 'dm:bob:2', user: 'bob', kind: 'dm', data: { from: 'ann' }, at: 20 },
    ], 'a replayed batch adds nothing');
    await store.ackNotifications(['dm:bob:1']);
    t.same((await store.pendingNotifications(10)).filter((n) => n.id.startsWith('dm:bob:')).map((n) => n.id), ['dm:bob:2']);
    await store.ackNotifications(['dm:bob:2']);
  });
}
