/**
 * The right of access (docs/privacy.md § Export): a request becomes a job; the job reads every store's
 * part off the request path, staging each as a JSON file (a restart resumes with the stores not yet
 * staged), then a Piscina worker packs them with a README into a zip, kept in the export store (on
 * MongoDB any API process serves any link). The download link is signed (HMAC) and expires; the archive
 * is deleted when it does. One request per user per window; one runner per job at a time.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExportJob, ExportStore } from '../adapters/privacy/export-store';
import { ApiError } from '../api/errors';
import type { PersonalDataHolder } from './data-holders';

/** Runs one archive build (a Piscina pool in production; the worker function itself in tests). */
export type ArchiveBuilder = (task: { stagingDir: string; files: readonly string[]; readme: string; out: string }) => Promise<number>;

export interface ExportSettings {
  /** Scratch space for staging a job's parts and packing its zip (removed once the archive is stored). */
  readonly dir: string;
  readonly linkTtlMs: number;
  readonly windowMs: number;
  /** Signs download links. */
  readonly secret: string;
}

export interface ExportDeps {
  readonly jobs: ExportStore;
  readonly holders: readonly PersonalDataHolder[];
  readonly build: ArchiveBuilder;
  readonly settings: ExportSettings;
  readonly now: () => number;
  readonly onError: (err: unknown, job: ExportJob) => void;
  /** Counts outcomes: requested, refused, ready, failed, downloaded, expired. */
  readonly count?: (outcome: string) => void;
}

/** What a client sees of a job: `url` (a path on this API) once the archive is ready. */
export interface ExportView {
  readonly id: string;
  readonly status: ExportJob['status'];
  readonly createdAt: number;
  readonly readyAt: number | null;
  readonly expiresAt: number | null;
  readonly bytes: number | null;
  readonly url: string | null;
}

export class ExportService {
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly d: ExportDeps) {
    mkdirSync(d.settings.dir, { recursive: true });
  }

  /** Starts an export for `user`, or refuses with HB_API_EXPORT_LIMIT (and the existing job) within the window. */
  async request(user: string): Promise<ExportView> {
    const now = this.d.now();
    const id = randomUUID();
    const r = await this.d.jobs.create({ id, user, createdAt: now }, now - this.d.settings.windowMs);
    if (!r.created) {
      this.d.count?.('refused');
      const retry = Math.max(1, Math.ceil((r.existing.createdAt + this.d.settings.windowMs - now) / 1000));
      throw new ApiError('HB_API_EXPORT_LIMIT', undefined, { 'retry-after': String(retry) }, { export: this.view(r.existing) });
    }
    this.d.count?.('requested');
    const job = (await this.d.jobs.get(id))!;
    this.start(job);
    return this.view(job);
  }

  async list(user: string): Promise<ExportView[]> {
    return (await this.d.jobs.ofUser(user, 20)).map((j) => this.view(j));
  }

  /** Resumes pending jobs nobody runs: at start, those a stopped process left; later, those of a process that died. */
  async resume(): Promise<number> {
    const pending = await this.d.jobs.pending();
    for (const job of pending) this.start(job);
    return pending.length;
  }

  /** Waits for the jobs running now (shutdown, tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.running.values()]);
  }

  /** Checks a download link; returns the archive. */
  async open(id: string, expires: number, sig: string): Promise<{ zip: Uint8Array; bytes: number }> {
    if (!this.validSignature(id, expires, sig)) throw new ApiError('HB_API_EXPORT_LINK_INVALID');
    const job = await this.d.jobs.get(id);
    if (!job) throw new ApiError('HB_API_EXPORT_LINK_INVALID');
    if (expires <= this.d.now() || job.status === 'expired') throw new ApiError('HB_API_EXPORT_LINK_EXPIRED');
    if (job.status !== 'ready') throw new ApiError('HB_API_EXPORT_NOT_READY');
    const zip = await this.d.jobs.archive(id);
    if (!zip) throw new ApiError('HB_API_EXPORT_LINK_EXPIRED');
    this.d.count?.('downloaded');
    return { zip, bytes: zip.byteLength };
  }

  /** Deletes the archives whose links expired. */
  async sweep(): Promise<number> {
    const expired = await this.d.jobs.expired(this.d.now());
    for (const job of expired) {
      await this.d.jobs.deleteArchive(job.id);
      await this.d.jobs.markExpired(job.id);
      this.d.count?.('expired');
    }
    return expired.length;
  }

  /** Erasure: the user's jobs and archives go. */
  async eraseUser(user: string): Promise<number> {
    const ids = await this.d.jobs.eraseUser(user);
    for (const id of ids) {
      await this.d.jobs.deleteArchive(id);
      rmSync(this.stagingDir(id), { recursive: true, force: true });
    }
    return ids.length;
  }

  private start(job: ExportJob): void {
    if (this.running.has(job.id)) return;
    // Another process may be running it (shared store): then it is theirs to finish.
    const run = this.d.jobs.exclusive(job.id, () => this.run(job)).then(() => undefined, async (err: unknown) => {
      this.d.count?.('failed');
      this.d.onError(err, job);
      await this.d.jobs.finish(job.id, { error: err instanceof Error ? err.message : String(err) });
    }).finally(() => this.running.delete(job.id));
    this.running.set(job.id, run);
  }

  private async run(job: ExportJob): Promise<void> {
    // Finished elsewhere since it was listed as pending.
    if ((await this.d.jobs.get(job.id))?.status !== 'pending') return;
    const staging = this.stagingDir(job.id);
    mkdirSync(staging, { recursive: true });
    const done = new Set(job.done);
    for (const h of this.d.holders) {
      if (done.has(h.store) && existsSync(join(staging, `${h.store}.json`))) continue;
      const part = await h.exportUser(job.user);
      writeFileSync(join(staging, `${h.store}.json`), JSON.stringify(part, jsonSafe, 2));
      await this.d.jobs.markDone(job.id, h.store);
    }
    const now = this.d.now();
    const out = join(this.d.settings.dir, `${job.id}.packing.zip`);
    const bytes = await this.d.build({ stagingDir: staging, files: this.d.holders.map((h) => `${h.store}.json`), readme: this.readme(job, now), out });
    await this.d.jobs.putArchive(job.id, readFileSync(out));
    rmSync(out, { force: true });
    rmSync(staging, { recursive: true, force: true });
    await this.d.jobs.finish(job.id, { readyAt: now, expiresAt: now + this.d.settings.linkTtlMs, bytes });
    this.d.count?.('ready');
  }

  private readme(job: ExportJob, now: number): string {
    return [
      '# Your HaloBuzz data',
      '',
      `Everything HaloBuzz held about account ${job.user} on ${new Date(now).toISOString()}, one JSON file per store.`,
      'Times are milliseconds since 1970-01-01 UTC unless a field says otherwise; room events are the frames',
      'described in docs/protocol.md, decoded from MessagePack.',
      '',
      '| file | what it holds |',
      '|---|---|',
      ...this.d.holders.map((h) => `| ${h.store}.json | ${h.holds} |`),
      '',
    ].join('\n');
  }

  private view(j: ExportJob): ExportView {
    return {
      id: j.id, status: j.status, createdAt: j.createdAt, readyAt: j.readyAt, expiresAt: j.expiresAt, bytes: j.bytes,
      url: j.status === 'ready' && j.expiresAt !== null ? this.link(j.id, j.expiresAt) : null,
    };
  }

  private link(id: string, expires: number): string {
    return `/v1/exports/${id}/download?expires=${expires}&sig=${this.sign(id, expires)}`;
  }

  private sign(id: string, expires: number): string {
    return createHmac('sha256', this.d.settings.secret).update(`export:${id}:${expires}`).digest('base64url');
  }

  private validSignature(id: string, expires: number, sig: string): boolean {
    const want = Buffer.from(this.sign(id, expires));
    const got = Buffer.from(sig);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  private stagingDir(id: string): string {
    return join(this.d.settings.dir, `${id}.staging`);
  }
}

/** Binary values (a frame's raw bytes) as base64, so every value in the archive is plain JSON. */
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { base64: Buffer.from(value).toString('base64') };
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return { base64: Buffer.from((value as { data: number[] }).data).toString('base64') };
  }
  return value;
}
