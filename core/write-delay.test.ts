import t from 'tap';
import { eff, type Effect } from '../actors/messages';
import { WriteDelay } from './write-delay';

const frame = (n: number) => new Uint8Array([n]);

t.test('0 applies every batch at once', async (t) => {
  const applied: (readonly Effect[])[] = [];
  const delay = new WriteDelay(0, (e) => applied.push(e));
  delay.push([eff.send(1, frame(1))]);
  t.equal(applied.length, 1, 'applied synchronously');
  t.equal(delay.pending, 0);
});

t.test('a delay holds batches, then applies them all in one turn, in the order they came', async (t) => {
  const applied: (readonly Effect[])[] = [];
  const delay = new WriteDelay(20, (effects) => applied.push(effects));
  const batches: Effect[][] = [[eff.publish('room', frame(1)), eff.send(7, frame(2))], [eff.subscribe(8, 'room', 0)], [eff.publish('room', frame(3))]];
  const started = Date.now();
  for (const b of batches) delay.push(b);
  t.same(applied, [], 'nothing applied yet');
  t.equal(delay.pending, 3);
  await new Promise((r) => setTimeout(r, 5));
  t.same(applied, [], 'still held within the delay');
  await new Promise((r) => setTimeout(r, 40));
  t.ok(Date.now() - started >= 19, 'applied after the delay');
  t.equal(applied.length, 3, 'every batch applied');
  t.ok(batches.every((b, i) => applied[i] === b), 'replies, pushes and subscriptions keep their order');
  t.equal(delay.pending, 0);
  const late = [eff.publish('room', frame(4))];
  delay.push(late);
  t.equal(delay.pending, 1, 'a new batch starts a new delay');
  delay.flush();
  t.equal(applied[3], late, 'flush applies what is held at once (shutdown)');
  delay.flush();
  t.equal(applied.length, 4, 'a second flush has nothing to apply');
});
