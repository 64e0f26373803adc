import t from 'tap';
import { MemberMap } from './member-map';
import { CONN_SPACE } from './messages';

const conn = (node: number, local: number) => node * CONN_SPACE + local;

t.test('counts members per node as they join and leave', async (t) => {
  const m = new MemberMap<string>();
  t.same(m.nodes(), [], 'an empty room is on no node');
  m.set(conn(3, 1), 'a');
  m.set(conn(1, 7), 'b');
  m.set(conn(3, 2), 'c');
  t.same(m.nodes(), [1, 3], 'nodes with members, ascending');
  m.set(conn(3, 1), 'a again');
  t.equal(m.size, 3, 'setting a member again does not add one');
  m.delete(conn(3, 1));
  t.same(m.nodes(), [1, 3], 'node 3 still has a member');
  m.delete(conn(3, 2));
  t.same(m.nodes(), [1], 'node 3 has none left');
  t.notOk(m.delete(conn(3, 2)), 'deleting a missing member changes nothing');
  t.same(m.nodes(), [1]);
  m.clear();
  t.same(m.nodes(), [], 'cleared');
  m.set(conn(2, 5), 'd');
  t.same(m.nodes(), [2], 'counts start afresh after a clear');
});

t.test('hands out the same array until the set of nodes changes', async (t) => {
  const m = new MemberMap<number>();
  m.set(conn(1, 1), 1);
  const first = m.nodes();
  m.set(conn(1, 2), 2);
  t.equal(m.nodes(), first, 'another member on a known node keeps the array');
  m.set(conn(4, 1), 3);
  t.not(m.nodes(), first, 'a new node makes a new array');
  t.same(first, [1], 'an array handed out earlier is never changed');
});
