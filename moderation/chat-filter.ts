/**
 * The chat and display-name filter: configured rules (config/moderation.json), each with an action per room
 * strictness. Word rules use the package word lists and the config's own lists; pattern rules use regular
 * expressions (phone numbers…); `links` and `mentions` count URLs and @mentions. Stateful spam (the same
 * message repeated) is the room's (see SpamTracker). Pure and synchronous: it runs in the room's actor
 * before a message gets its seq, and in the API for display names.
 */
import { readFileSync } from 'node:fs';
import { WordMatcher } from './word-matcher';
import { unambiguousWords, type WordListSource } from './word-lists';
import type { Strictness } from '../protocol/requests';

export type FilterAction = 'allow' | 'mask' | 'flag' | 'block';
const SEVERITY: Record<FilterAction, number> = { allow: 0, mask: 1, flag: 2, block: 3 };

type Actions = Readonly<Record<Strictness, FilterAction>>;

export type FilterRule =
  | { readonly id: string; readonly kind: 'words'; readonly lists?: readonly string[]; readonly words?: readonly string[]; readonly actions: Actions }
  | { readonly id: string; readonly kind: 'pattern'; readonly patterns: readonly string[]; readonly actions: Actions }
  | { readonly id: string; readonly kind: 'links'; readonly max: number; readonly allowDomains?: readonly string[]; readonly actions: Actions }
  | { readonly id: string; readonly kind: 'mentions'; readonly max: number; readonly actions: Actions };

export interface FilterConfigData {
  readonly defaultStrictness: Strictness;
  /** Display names are checked at this level (there is no room to configure it). */
  readonly displayNameStrictness: Strictness;
  /** Named word lists: a package source, or words written here. */
  readonly lists: Readonly<Record<string, WordListSource>>;
  /** Words never matched (false positives of the lists in some language or name). */
  readonly allow: readonly string[];
  readonly rules: readonly FilterRule[];
  /** The same message from one user in one room, more than `max` times within `windowSec`. */
  readonly repeat: { readonly windowSec: number; readonly max: number; readonly actions: Actions };
}

/** What the filter decided for one text at one strictness. */
export interface FilterVerdict {
  /** The strongest action of any rule that matched. */
  readonly action: FilterAction;
  /** The rule that decided `action` (null when nothing matched). */
  readonly rule: string | null;
  /** Whether that rule is about spam (links, mentions, repeats) rather than words. */
  readonly spam: boolean;
  /** The text to sequence: masked spans replaced by `*`. */
  readonly text: string;
  /** Every rule that matched with the action it took (counted in /metrics). */
  readonly hits: readonly { rule: string; action: FilterAction }[];
}

const URL = /\b(?:https?:\/\/|www\.)[^\s]+|\b[a-z0-9-]{2,}\.(?:com|net|org|io|gg|me|ly|app|xyz|ru|info|biz|link|click|top|tk)\b(?:\/[^\s]*)?/giu;
const MENTION = /(?:^|\s)@[\p{L}\p{N}_.-]{2,}/gu;
const MAY_HOLD_LINK = /[.:]/;

interface CompiledRule {
  readonly rule: FilterRule;
  find(text: string): { start: number; end: number }[];
}

export class ChatFilter {
  private readonly compiled: CompiledRule[];

  constructor(readonly config: FilterConfigData) {
    const lists = new Map<string, string[]>();
    for (const [name, source] of Object.entries(config.lists)) lists.set(name, unambiguousWords(source));
    this.compiled = config.rules.map((rule) => compile(rule, lists, config.allow));
  }

  static fromFile(file: string): ChatFilter {
    return new ChatFilter(readFilterConfig(file));
  }

  /** Checks `text` at `strictness`; a `flag` also needs the repeat rule's verdict from the room (see SpamTracker). */
  check(text: string, strictness: Strictness): FilterVerdict {
    const hits: { rule: string; action: FilterAction }[] = [];
    let action: FilterAction = 'allow';
    let decider: FilterRule | null = null;
    const masks: { start: number; end: number }[] = [];
    for (const c of this.compiled) {
      const ruleAction = c.rule.actions[strictness];
      if (ruleAction === 'allow') continue;
      const spans = c.find(text);
      if (spans.length === 0) continue;
      hits.push({ rule: c.rule.id, action: ruleAction });
      if (ruleAction === 'mask') masks.push(...spans);
      if (SEVERITY[ruleAction] > SEVERITY[action]) {
        action = ruleAction;
        decider = c.rule;
      }
    }
    // A flag with masks still masks: the message goes out masked and is also queued for review.
    return { action, rule: decider?.id ?? null, spam: decider !== null && decider.kind !== 'words' && decider.kind !== 'pattern', text: mask(text, masks), hits };
  }
}

/** Replaces each span's characters with `*` (one per code point), keeping the rest as written. */
export function mask(text: string, spans: readonly { start: number; end: number }[]): string {
  if (spans.length === 0) return text;
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue;
    const from = Math.max(at, s.start);
    out += text.slice(at, from) + '*'.repeat([...text.slice(from, s.end)].length);
    at = s.end;
  }
  return out + text.slice(at);
}

function compile(rule: FilterRule, lists: Map<string, string[]>, allow: readonly string[]): CompiledRule {
  switch (rule.kind) {
    case 'words': {
      const entries = [...(rule.words ?? [])];
      for (const name of rule.lists ?? []) {
        const list = lists.get(name);
        if (!list) throw new Error(`filter rule ${rule.id}: no list "${name}"`);
        entries.push(...list);
      }
      const matcher = new WordMatcher(entries, allow);
      return { rule, find: (text) => matcher.find(text) };
    }
    case 'pattern': {
      const patterns = rule.patterns.map((p) => new RegExp(p, 'giu'));
      return { rule, find: (text) => patterns.flatMap((p) => [...text.matchAll(p)].map((m) => ({ start: m.index, end: m.index + m[0].length }))) };
    }
    case 'links': {
      const allowed = (rule.allowDomains ?? []).map((d) => d.toLowerCase());
      return {
        rule, find: (text) => {
          // Every link has a '.' or a ':' (the scheme); most chat has neither and skips the expression.
          if (!MAY_HOLD_LINK.test(text)) return [];
          const links = [...text.matchAll(URL)].filter((m) => !allowed.some((d) => m[0].toLowerCase().replace(/^https?:\/\//, '').replace(/^www\./, '').startsWith(d)));
          return links.length > rule.max ? links.map((m) => ({ start: m.index, end: m.index + m[0].length })) : [];
        },
      };
    }
    case 'mentions':
      return {
        rule, find: (text) => {
          if (!text.includes('@')) return [];
          const mentions = [...text.matchAll(MENTION)];
          return mentions.length > rule.max ? mentions.map((m) => ({ start: m.index, end: m.index + m[0].length })) : [];
        },
      };
  }
}

/**
 * The same message over and over from one user in one room. Keeps, per user, the recent normalized texts
 * with their times (bounded), in the room's memory: a rebuilt room starts counting afresh.
 */
export class SpamTracker {
  private readonly recent = new Map<string, { text: string; at: number }[]>();

  constructor(private readonly windowMs: number, private readonly max: number) {}

  /** Records the message and says whether it repeats more than `max` times within the window. */
  repeated(user: string, text: string, now: number): boolean {
    const key = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
    const list = (this.recent.get(user) ?? []).filter((m) => now - m.at < this.windowMs);
    const same = list.filter((m) => m.text === key).length;
    list.push({ text: key, at: now });
    this.recent.set(user, list.slice(-20));
    if (this.recent.size > 10_000) this.recent.delete(this.recent.keys().next().value as string);
    return same >= this.max;
  }
}

const STRICT = ['relaxed', 'standard', 'strict'];
const ACTIONS = ['allow', 'mask', 'flag', 'block'];

/** Reads and validates the filter section of a moderation config file (without loading the word lists). */
export function readFilterConfig(file: string): FilterConfigData {
  return parseFilterConfig(JSON.parse(readFileSync(file, 'utf8')) as unknown, file);
}

/** Validates the filter section of config/moderation.json; errors name the file and the field. */
export function parseFilterConfig(raw: unknown, file: string): FilterConfigData {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what}`);
  };
  const o = raw as Record<string, unknown>;
  const f = (o?.filter ?? fail('missing "filter"')) as Record<string, unknown>;
  const level = (v: unknown, where: string) => (typeof v === 'string' && STRICT.includes(v) ? v as Strictness : fail(`${where} must be relaxed, standard or strict`));
  const actions = (v: unknown, where: string): Actions => {
    const a = v as Record<string, unknown>;
    for (const s of STRICT) if (typeof a?.[s] !== 'string' || !ACTIONS.includes(a[s] as string)) fail(`${where}.actions.${s} must be allow, mask, flag or block`);
    return a as unknown as Actions;
  };
  const rules = Array.isArray(f.rules) ? f.rules : fail('filter.rules must be a list');
  const ids = new Set<string>();
  for (const [i, r] of rules.entries()) {
    const rule = r as Record<string, unknown>;
    const where = `filter.rules[${i}]`;
    if (typeof rule.id !== 'string' || !/^[a-z0-9_-]{1,32}$/.test(rule.id)) fail(`${where}.id must be 1–32 of a–z 0–9 _ -`);
    if (ids.has(rule.id as string)) fail(`${where}.id "${rule.id}" is used twice`);
    ids.add(rule.id as string);
    actions(rule.actions, where);
    if (!['words', 'pattern', 'links', 'mentions'].includes(rule.kind as string)) fail(`${where}.kind must be words, pattern, links or mentions`);
    if (rule.kind === 'pattern') for (const p of (rule.patterns as unknown[]) ?? fail(`${where}.patterns missing`)) {
      try {
        new RegExp(p as string, 'u');
      } catch (err) {
        fail(`${where}.patterns: ${(err as Error).message}`);
      }
    }
    if ((rule.kind === 'links' || rule.kind === 'mentions') && (typeof rule.max !== 'number' || rule.max < 0)) fail(`${where}.max must be a number ≥ 0`);
  }
  const repeat = f.repeat as Record<string, unknown>;
  if (typeof repeat?.windowSec !== 'number' || typeof repeat.max !== 'number' || repeat.max < 1) fail('filter.repeat needs windowSec and max ≥ 1');
  actions(repeat.actions, 'filter.repeat');
  return {
    defaultStrictness: level(f.defaultStrictness, 'filter.defaultStrictness'),
    displayNameStrictness: level(f.displayNameStrictness, 'filter.displayNameStrictness'),
    lists: (f.lists ?? {}) as FilterConfigData['lists'],
    allow: Array.isArray(f.allow) ? f.allow as string[] : [],
    rules: rules as FilterRule[],
    repeat: repeat as unknown as FilterConfigData['repeat'],
  };
}
