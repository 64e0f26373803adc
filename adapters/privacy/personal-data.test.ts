/**
 * The scrubbing rule shared by every store's erasure. Export and erasure of each store are proven by its
 * conformance suite (the `.conformance.ts` file beside it) on every engine it runs on; the walk over
 * every file after a real erasure is test/e2e/privacy-rights.test.ts.
 */
import t from 'tap';
import { ERASED_NAME, scrub } from './personal-data';

const e = { user: 'u_gone', pseudonym: 'x_kept', aliases: ['gone@example.com', 'Gone Name'] };

t.test('scrub: the id inside any string or key, aliases only as whole values', async (t) => {
  t.same(scrub({ from: 'u_gone', who: 'user:u_gone', name: 'Gone Name', text: 'hi Gone Name', list: ['u_gone', 1], ['k:u_gone']: true }, e),
    { from: 'x_kept', who: 'user:x_kept', name: ERASED_NAME, text: 'hi Gone Name', list: ['x_kept', 1], ['k:x_kept']: true });
});
