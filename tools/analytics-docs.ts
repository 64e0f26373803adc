/**
 * Prints docs/analytics.md's query section from the named queries (`node dist/tools/analytics-docs.js`),
 * so the document shows exactly the SQL the server runs. test/analytics-docs.test.ts checks it is current.
 */
import { QUERIES } from '../adapters/analytics/analyst-queries';

export const EXAMPLE = { from: 1764028800, to: 1764115200, room: 'r_example' } as const;

export function queriesMarkdown(): string {
  return Object.entries(QUERIES).map(([name, q]) => [
    `### ${q.title} (\`${name}\`)`,
    '',
    q.description,
    '',
    '```sql',
    q.sql(EXAMPLE),
    '```',
  ].join('\n')).join('\n\n');
}

if (require.main === module) process.stdout.write(`${queriesMarkdown()}\n`);
