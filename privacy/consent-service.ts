/**
 * Consent (docs/privacy.md § Consent): a user's choices on analytics, marketing notifications and the CCPA
 * "do not sell or share" flag, and their acceptance of the current terms and privacy policy, each recorded
 * with its time, version and source in an append-only history. A change of the analytics choice reaches
 * every process's consent check at once (through `analyticsOptOut`).
 */
import type { ConsentKind, ConsentRecord, ConsentStore } from '../adapters/privacy/consent-store';
import { ApiError } from '../api/errors';
import type { ChoiceKind, DocumentKind, PrivacyDocuments } from './privacy-documents';

export interface ConsentView {
  /** Each choice as it stands (the server's default when the user never chose). */
  readonly choices: Record<ChoiceKind, { granted: boolean; at: number | null }>;
  /** Each document: the current version, the version the user accepted (null: none), and when. */
  readonly documents: Record<DocumentKind, { version: string; url: string; accepted: string | null; at: number | null }>;
  /** Documents whose current version the user has not accepted. */
  readonly needsAcceptance: DocumentKind[];
}

export interface ConsentChange {
  readonly analytics?: boolean;
  readonly marketing?: boolean;
  readonly doNotSell?: boolean;
  /** Accept a document: its current version (anything else is refused: the user must have seen this one). */
  readonly terms?: string;
  readonly privacy?: string;
}

export interface ConsentServiceDeps {
  readonly store: ConsentStore;
  readonly documents: PrivacyDocuments;
  readonly now: () => number;
  /** A user's analytics choice changed: every process's consent check must know now. */
  readonly analyticsOptOut: (user: string, declined: boolean) => void;
}

const CHOICES: readonly ChoiceKind[] = ['analytics', 'marketing', 'do_not_sell'];
const DOCUMENTS: readonly DocumentKind[] = ['terms', 'privacy'];

export class ConsentService {
  constructor(private readonly d: ConsentServiceDeps) {}

  async view(user: string): Promise<ConsentView> {
    const current = new Map((await this.d.store.current(user)).map((r) => [r.kind, r]));
    const docs = this.d.documents.data;
    const choices = Object.fromEntries(CHOICES.map((k) => {
      const r = current.get(k);
      return [k, { granted: r ? r.granted : docs.defaults[k], at: r?.at ?? null }];
    })) as ConsentView['choices'];
    const documents = Object.fromEntries(DOCUMENTS.map((k) => {
      const r = current.get(k);
      return [k, { version: docs.documents[k].version, url: docs.documents[k].url, accepted: r?.granted ? r.version : null, at: r?.at ?? null }];
    })) as ConsentView['documents'];
    return { choices, documents, needsAcceptance: DOCUMENTS.filter((k) => documents[k].accepted !== documents[k].version) };
  }

  async change(user: string, change: ConsentChange, source: string): Promise<ConsentView> {
    const at = this.d.now();
    const records: ConsentRecord[] = [];
    const choice = (kind: ConsentKind, granted: boolean | undefined) => {
      if (granted !== undefined) records.push({ user, kind, granted, version: '', at, source });
    };
    choice('analytics', change.analytics);
    choice('marketing', change.marketing);
    choice('do_not_sell', change.doNotSell);
    for (const k of DOCUMENTS) {
      const version = change[k];
      if (version === undefined) continue;
      const current = this.d.documents.data.documents[k].version;
      if (version !== current) throw new ApiError('HB_API_VALIDATION', `${k}: the current version is ${current}; accept that one`);
      records.push({ user, kind: k, granted: true, version, at, source });
    }
    await this.d.store.record(records);
    if (change.analytics !== undefined) this.d.analyticsOptOut(user, !change.analytics);
    return this.view(user);
  }

  /** Every consent record of a user, oldest first (an audit's export). */
  history(user: string): Promise<ConsentRecord[]> {
    return this.d.store.history(user);
  }

  /** Tells this process and every node whose analytics choice differs from the default (at start). */
  async loadOptOuts(): Promise<number> {
    const declinedByDefault = !this.d.documents.data.defaults.analytics;
    const users = await this.d.store.usersWith('analytics', declinedByDefault);
    for (const user of users) this.d.analyticsOptOut(user, !declinedByDefault);
    return users.length;
  }
}
