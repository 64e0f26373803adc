/**
 * The report section of config/moderation.json: the documented reasons a user may give (each with its
 * priority in the review queue), the per-reporter hourly limit, and how many reporters raise a report's
 * priority by one. System reports (the filter, ban evasion) have their own priorities.
 */
import { readFileSync } from 'node:fs';

export interface ReportRulesData {
  readonly perHour: number;
  readonly escalateAtReporters: number;
  readonly reasons: Readonly<Record<string, { readonly priority: number; readonly label: string }>>;
  readonly system: Readonly<Record<'ban_evasion' | 'filter', { readonly priority: number }>>;
}

export class ReportRules {
  constructor(readonly data: ReportRulesData) {}

  static fromFile(file: string): ReportRules {
    return new ReportRules(parseReportRules(JSON.parse(readFileSync(file, 'utf8')) as unknown, file));
  }

  get reasons(): string[] {
    return Object.keys(this.data.reasons);
  }

  /** A report's priority from its reason (system reasons: `ban_evasion`, `filter:<rule>`); the store raises it as reporters join. */
  priority(reason: string): number {
    return this.data.reasons[reason]?.priority ?? (reason === 'ban_evasion' ? this.data.system.ban_evasion.priority : this.data.system.filter.priority);
  }
}

export function parseReportRules(raw: unknown, file: string): ReportRulesData {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  const r = (raw as { reports?: Record<string, unknown> })?.reports ?? fail('missing "reports"');
  const whole = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;
  if (!whole(r.perHour, 1)) fail('reports.perHour must be a whole number ≥ 1');
  if (!whole(r.escalateAtReporters, 2)) fail('reports.escalateAtReporters must be a whole number ≥ 2');
  const reasons = (r.reasons ?? fail('reports.reasons missing')) as Record<string, { priority?: unknown; label?: unknown }>;
  for (const [id, v] of Object.entries(reasons)) {
    if (!/^[a-z_]{1,32}$/.test(id)) fail(`reports.reasons: "${id}" must be 1–32 of a–z and _`);
    if (!whole(v.priority, 1) || (v.priority as number) > 3) fail(`reports.reasons.${id}.priority must be 1, 2 or 3`);
    if (typeof v.label !== 'string' || !v.label) fail(`reports.reasons.${id}.label missing`);
  }
  const system = (r.system ?? fail('reports.system missing')) as Record<string, { priority?: unknown }>;
  for (const k of ['ban_evasion', 'filter']) if (!whole(system[k]?.priority, 1)) fail(`reports.system.${k}.priority must be 1, 2 or 3`);
  return r as unknown as ReportRulesData;
}
