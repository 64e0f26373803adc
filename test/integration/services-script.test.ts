/**
 * deploy/local/services fails cleanly (issue #12): it checks its prerequisites before starting anything,
 * and a run that fails part-way stops the engines it had started. Runs on a second set of ports with its
 * own state folder, beside the engines the suite uses.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { servicesRequired } from '../helpers/services';

const root = join(__dirname, '..', '..', '..');
const script = join(root, 'deploy', 'local', 'services');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function portOpen(port: number): boolean {
  return spawnSync('bash', ['-c', `(exec 3<>/dev/tcp/127.0.0.1/${port}) 2>/dev/null`]).status === 0;
}

const hasRedis = spawnSync('bash', ['-c', 'command -v redis-server']).status === 0;
if (!hasRedis && !servicesRequired()) {
  t.plan(0, 'not run: needs redis-server (deploy/local/services up installs it)');
} else {
  t.test('without node_modules, up refuses before starting any engine', async (t) => {
    const copy = mkdtempSync(join(tmpdir(), 'hb-services-'));
    t.teardown(() => rmSync(copy, { recursive: true, force: true }));
    cpSync(join(root, 'deploy', 'local'), join(copy, 'deploy', 'local'), { recursive: true });
    const r = spawnSync('bash', [join(copy, 'deploy', 'local', 'services'), 'up', 'redis'], {
      env: { ...process.env, HALOBUZZ_SERVICES_DIR: join(copy, '.services'), HALOBUZZ_REDIS_PORT: String(await freePort()) }, encoding: 'utf8', timeout: 60_000,
    });
    t.not(r.status, 0, 'up fails');
    t.match(r.stderr, /node_modules is missing/);
    t.notMatch(r.stderr, /redis: starting/, 'nothing was started');
    t.notOk(existsSync(join(copy, '.services', 'run', 'redis.pid')));
  });

  t.test('a run that fails part-way stops what it had started', async (t) => {
    const state = mkdtempSync(join(tmpdir(), 'hb-services-state-'));
    t.teardown(() => rmSync(state, { recursive: true, force: true }));
    const redisPort = await freePort();
    const env = {
      ...process.env, HALOBUZZ_SERVICES_DIR: state, HALOBUZZ_CACHE_DIR: join(state, 'cache'),
      HALOBUZZ_REDIS_PORT: String(redisPort), HALOBUZZ_KAFKA_PORT: String(await freePort()), HALOBUZZ_KAFKA_CONTROLLER_PORT: String(await freePort()),
      // A Kafka version Maven Central does not have: the Kafka install fails after Redis is up.
      HALOBUZZ_KAFKA_VERSION: '0.0.1-no-such-version',
    };
    const r = spawnSync('bash', [script, 'up', 'redis', 'kafka'], { env, encoding: 'utf8', timeout: 300_000 });
    t.not(r.status, 0, 'up fails');
    t.match(r.stderr, /redis: starting/, 'Redis had started');
    t.match(r.stderr, /Maven could not resolve Kafka/);
    t.match(r.stderr, /stopping what this run started: redis/);
    t.notOk(portOpen(redisPort), 'Redis is stopped again');
    t.notOk(existsSync(join(state, 'run', 'redis.pid')), 'and its pid file is gone');
  });

  t.test('redis-cluster: three masters come up as one Redis Cluster, and go down together', async (t) => {
    const state = mkdtempSync(join(tmpdir(), 'hb-services-cluster-'));
    t.teardown(() => rmSync(state, { recursive: true, force: true }));
    // Three ports in a row, each with its cluster bus port (+10000) free too.
    let base = 0;
    for (let tries = 0; tries < 50 && base === 0; tries++) {
      // Below 22,000: the cluster bus ports (+10,000) stay under the ephemeral range (32,768 and up).
      const p = 20_000 + Math.floor(Math.random() * 2_000);
      if (![p, p + 1, p + 2, p + 10_000, p + 10_001, p + 10_002].some(portOpen)) base = p;
    }
    const env = { ...process.env, HALOBUZZ_SERVICES_DIR: state, HALOBUZZ_REDIS_CLUSTER_PORT: String(base) };
    t.teardown(() => void spawnSync('bash', [script, 'down', 'redis-cluster'], { env, timeout: 60_000 }));
    const up = spawnSync('bash', [script, 'up', 'redis-cluster'], { env, encoding: 'utf8', timeout: 120_000 });
    t.equal(up.status, 0, `up succeeds${up.status === 0 ? '' : `: ${up.stderr}`}`);
    t.match(up.stdout, new RegExp(`redis-cluster +up +redis-cluster://127\\.0\\.0\\.1:${base},127\\.0\\.0\\.1:${base + 1},127\\.0\\.0\\.1:${base + 2}`));
    const info = spawnSync('redis-cli', ['-p', String(base + 1), 'cluster', 'info'], { encoding: 'utf8' }).stdout;
    t.match(info, /cluster_state:ok/, 'the cluster serves every slot');
    t.match(info, /cluster_size:3/, 'over three masters');
    const down = spawnSync('bash', [script, 'down', 'redis-cluster'], { env, encoding: 'utf8', timeout: 60_000 });
    t.equal(down.status, 0);
    await new Promise((r) => setTimeout(r, 300));
    t.same([base, base + 1, base + 2].filter(portOpen), [], 'all three masters stopped');
  });

  t.test('what `services env` prints can be exported before starting the server', async (t) => {
    const out = spawnSync('bash', [script, 'env'], { encoding: 'utf8', timeout: 30_000 });
    t.equal(out.status, 0);
    const names = [...out.stdout.matchAll(/^export ([A-Z_0-9]+)=/gm)].map((m) => m[1]!);
    t.ok(names.includes('REDIS_URL') && names.includes('KAFKA_BROKERS'), `prints the engines (${names.join(', ')})`);
    const { KNOWN_VARIABLES } = await import('../../config/config');
    // The server refuses unknown HALOBUZZ_* variables; a tool's variable under that prefix would stop `npm start`.
    t.same(names.filter((n) => n.startsWith('HALOBUZZ_') && !KNOWN_VARIABLES.has(n)), [], 'no variable the server would refuse');
  });
}
