/**
 * ConsentStore: what each user agreed to, as an append-only history (docs/privacy.md § Consent). Every
 * change is a record with its time, the version of the document it concerns and where it came from; the
 * current state of a kind is its newest record. SQLite (data/privacy.sqlite) or MongoDB when MONGODB_URL is
 * set; one conformance suite holds both to this contract.
 */

/** What a user may consent to. `do_not_sell` is the CCPA "do not sell or share my personal information" flag. */
import type { PersonalData } from '../privacy/personal-data';
export const CONSENT_KINDS = ['terms', 'privacy', 'analytics', 'marketing', 'do_not_sell'] as const;
export type ConsentKind = (typeof CONSENT_KINDS)[number];

export interface ConsentRecord {
  readonly user: string;
  readonly kind: ConsentKind;
  readonly granted: boolean;
  /** The document's version the choice was made on (terms and privacy policy); '' for the others. */
  readonly version: string;
  readonly at: number;
  /** Where the choice was made: `api` (the user), `admin`, `signup`. */
  readonly source: string;
}

export interface ConsentStore extends PersonalData {
  /** Appends the records (one write per record; a record identical to the kind's current one is skipped). */
  record(records: readonly ConsentRecord[]): Promise<void>;
  /** The newest record of each kind the user ever set. */
  current(user: string): Promise<ConsentRecord[]>;
  /** Every record of a user, oldest first (what an audit asks). */
  history(user: string): Promise<ConsentRecord[]>;
  /** Users whose newest `kind` record says `granted` (e.g. everyone who declined analytics: kind analytics, false). */
  usersWith(kind: ConsentKind, granted: boolean): Promise<string[]>;
  close(): Promise<void>;
}

/** Where a user's consents are, the same tables (collections) on every engine: the whole history is exported. */
export const CONSENT_PERSONAL_DATA = [
  { table: 'consent_history', section: 'consents', owner: ['user'], erase: 'delete' },
  { table: 'consent_current', section: null, owner: ['user'], erase: 'delete' },
] as const;
