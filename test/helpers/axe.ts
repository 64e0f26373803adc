/**
 * WCAG 2.1 A and AA checks of a page in the real browser, with axe-core. Loaded through the DevTools
 * protocol (page.evaluate), which the pages' strict Content-Security-Policy does not apply to, so the page
 * under test stays exactly as served.
 */
import axe from 'axe-core';
import type { Page } from 'playwright-core';

/** Each violation as `rule (impact): how many elements — the first few selectors`; empty when none. */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(axe.source);
  // Runs in the page (the browser's globals, not Node's).
  const result = await page.evaluate(() => {
    const g = globalThis as unknown as { axe: typeof axe; document: unknown };
    return g.axe.run(g.document as never, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
  });
  return result.violations.map((v) => `${v.id} (${v.impact ?? 'n/a'}): ${v.nodes.length} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}
