/**
 * Export jobs and their archives (docs/privacy.md § Export), behind one seam so that any API process can
 * serve any link: on SQLite (one process's data folder: jobs in exports.sqlite, archives as files) or on
 * MongoDB (jobs, archives in chunks, and a run lock per job, shared by every API process).
 */

/** `expired`: the link passed its time and the archive was deleted (still counts against the daily limit). */
export type ExportStatus = 'pending' | 'ready' | 'failed' | 'expired';

export interface ExportJob {
  readonly id: string;
  readonly user: string;
  readonly status: ExportStatus;
  readonly createdAt: number;
  /** Stores whose part is staged (a resumed job on the same machine skips them). */
  readonly done: readonly string[];
  readonly readyAt: number | null;
  /** When the download link stops working and the archive is deleted. */
  readonly expiresAt: number | null;
  readonly bytes: number | null;
  readonly error: string | null;
}

export interface ExportStore {
  /** Creates the job unless the user has one (not failed) created after `since`; returns that one instead. At most one of racing calls creates. */
  create(job: Pick<ExportJob, 'id' | 'user' | 'createdAt'>, since: number): Promise<{ created: true } | { created: false; existing: ExportJob }>;
  get(id: string): Promise<ExportJob | null>;
  ofUser(user: string, limit: number): Promise<ExportJob[]>;
  pending(): Promise<ExportJob[]>;
  markDone(id: string, store: string): Promise<void>;
  finish(id: string, outcome: { readyAt: number; expiresAt: number; bytes: number } | { error: string }): Promise<void>;
  /** Ready jobs whose link has expired (their archives are to be deleted). */
  expired(now: number): Promise<ExportJob[]>;
  markExpired(id: string): Promise<void>;
  /**
   * Runs `work` unless another runner (in this process or, on a shared engine, another) holds the job;
   * then null. A runner that died holding it is taken over after a while.
   */
  exclusive<T>(id: string, work: () => Promise<T>): Promise<T | null>;
  putArchive(id: string, zip: Uint8Array): Promise<void>;
  /** The archive's bytes, or null when there is none (never built, or deleted). */
  archive(id: string): Promise<Uint8Array | null>;
  deleteArchive(id: string): Promise<void>;
  /** Erasure: a user's jobs go; returns their ids (the caller deletes their archives). */
  eraseUser(user: string): Promise<string[]>;
  close(): Promise<void>;
}
