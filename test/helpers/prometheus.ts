/**
 * A real Prometheus (Debian's, installed by deploy/local/services up) started by a test: scrapes the
 * given targets every second with the project's alert rules loaded, on a free loopback port and a
 * throwaway data folder.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROMETHEUS = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'].find((p) => existsSync(p)) ?? null;
export const PROMTOOL = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => existsSync(p)) ?? null;
export const ALERT_RULES = join(__dirname, '..', '..', '..', 'deploy', 'prometheus', 'alerts.yml');

export interface RunningPrometheus {
  readonly url: string;
  /** An instant query's vector: labels and value of each series. */
  query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startPrometheus(targets: readonly string[]): Promise<RunningPrometheus> {
  if (!PROMETHEUS) throw new Error('prometheus is not installed: deploy/local/services up installs it');
  const dir = mkdtempSync(join(tmpdir(), 'hb-prometheus-'));
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: [ALERT_RULES],
    scrape_configs: [{ job_name: 'halobuzz', static_configs: [{ targets: [...targets] }] }],
  }));
  const child = spawn(PROMETHEUS, [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  const logs: string[] = [];
  child.stderr!.on('data', (c: Buffer) => logs.push(c.toString()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const start = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
    if (child.exitCode !== null) throw new Error(`prometheus exited:\n${logs.join('')}`);
    if (Date.now() - start > 30_000) {
      await stop();
      throw new Error(`prometheus did not become ready:\n${logs.join('')}`);
    }
    if (await fetch(`${url}/-/ready`).then((r) => r.ok, () => false)) break;
  }
  return {
    url,
    stop,
    query: async (expr) => {
      const body = (await (await fetch(`${url}/api/v1/query?query=${encodeURIComponent(expr)}`)).json()) as { status: string; data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      if (body.status !== 'success') throw new Error(`query ${expr} failed: ${JSON.stringify(body)}`);
      return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
    },
  };
}
