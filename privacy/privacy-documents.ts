/**
 * config/privacy.json: the current version (and address) of each document a user accepts, and what the
 * other consents are before a user chose (analytics on, marketing off, "do not sell" off by default: a
 * server for a jurisdiction that needs opt-in analytics sets `analytics` to false).
 */
import { readFileSync } from 'node:fs';

export type DocumentKind = 'terms' | 'privacy';
export type ChoiceKind = 'analytics' | 'marketing' | 'do_not_sell';

export interface PrivacyDocumentsData {
  readonly documents: Readonly<Record<DocumentKind, { readonly version: string; readonly url: string }>>;
  readonly defaults: Readonly<Record<ChoiceKind, boolean>>;
}

export class PrivacyDocuments {
  constructor(readonly data: PrivacyDocumentsData) {}

  static fromFile(file: string): PrivacyDocuments {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<PrivacyDocumentsData>;
    const fail = (what: string): never => {
      throw new Error(`${file}: ${what}`);
    };
    for (const k of ['terms', 'privacy'] as const) {
      const d = raw.documents?.[k];
      if (!d || typeof d.version !== 'string' || !/^[A-Za-z0-9._-]{1,32}$/.test(d.version)) fail(`documents.${k}.version must be 1–32 of A–Z a–z 0–9 . _ -`);
      if (typeof d!.url !== 'string' || !/^https?:\/\/\S+$/.test(d!.url)) fail(`documents.${k}.url must be an http(s) address`);
    }
    for (const k of ['analytics', 'marketing', 'do_not_sell'] as const) if (typeof raw.defaults?.[k] !== 'boolean') fail(`defaults.${k} must be true or false`);
    return new PrivacyDocuments(raw as PrivacyDocumentsData);
  }
}
