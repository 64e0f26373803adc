import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { queriesMarkdown } from '../tools/analytics-docs';

t.test('docs/analytics.md shows the SQL the server runs', async (t) => {
  const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'analytics.md'), 'utf8');
  t.ok(doc.includes(queriesMarkdown()), 'regenerate with: node dist/tools/analytics-docs.js');
});
