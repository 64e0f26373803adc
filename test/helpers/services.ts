/**
 * Where integration suites find the real engines started by deploy/local/services. Under CI (or with
 * REQUIRE_SERVICES=1) a missing engine fails the suite; on a laptop without them the suite says once
 * that it did not run and how to start them.
 */
import { execFileSync } from 'node:child_process';
import type { Test } from 'tap';

/** chdb: not a server but the Python that embeds a current ClickHouse (for the compatibility test). */
/** kubernetes-validate: not a server but the checker of the Kubernetes manifests (deploy/k8s). */
export type Engine = 'redis' | 'redis-cluster' | 'kafka' | 'kafka-cluster' | 'clickhouse' | 'mongodb' | 'chdb' | 'stripe' | 'kubernetes-validate';

const VARIABLE: Record<Engine, string> = {
  redis: 'REDIS_URL',
  'redis-cluster': 'REDIS_CLUSTER_URL',
  'kafka-cluster': 'KAFKA_CLUSTER_BROKERS',
  kafka: 'KAFKA_BROKERS',
  clickhouse: 'CLICKHOUSE_URL',
  mongodb: 'MONGODB_URL',
  chdb: 'CHDB_PYTHON',
  stripe: 'STRIPE_MOCK_URL',
  'kubernetes-validate': 'KUBERNETES_VALIDATE',
};

export function servicesRequired(): boolean {
  return Boolean(process.env.CI) || process.env.REQUIRE_SERVICES === '1';
}

/**
 * The engine's URL, or null after recording why the suite does not run. Call at the top of a test file:
 * `const url = engineUrl(t, 'redis'); if (!url) return;`
 */
export function engineUrl(t: Test, engine: Engine): string | null {
  const variable = VARIABLE[engine];
  const value = process.env[variable];
  if (value) return value;
  if (servicesRequired()) {
    t.fail(`${variable} is not set: CI must start the engines (deploy/local/services up) and export their env`);
    return null;
  }
  t.plan(0, `not run: ${engine} integration needs ${variable}; start them with deploy/local/services up && eval "$(deploy/local/services env)"`);
  return null;
}

/**
 * A maker of fresh MongoDB databases on `base` (one per call, named after `prefix`, this process and the
 * time), all dropped when `t` ends: suites that must never see each other's leftovers call it per test.
 */
export function freshMongoDatabases(t: Test, base: string, prefix: string): () => string {
  const created: string[] = [];
  t.teardown(async () => {
    const { MongoClient } = await import('mongodb');
    const c = new MongoClient(base);
    await c.connect();
    for (const name of created) await c.db(name).dropDatabase();
    await c.close();
  });
  const stem = `${prefix}_${process.pid}_${Date.now()}`;
  let n = 0;
  return () => {
    const url = new URL(base);
    url.pathname = `/${stem}_${n++}`;
    created.push(url.pathname.slice(1));
    return url.toString();
  };
}

/**
 * Whether the Go toolchain runs (the bench's compiled load generator is built with it), recording why the
 * suite does not run when it does not; under CI its absence fails the suite like a missing engine.
 */
export function goAvailable(t: Test): boolean {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    if (servicesRequired()) {
      t.fail('go is not installed: CI needs Go for the compiled load generator (bench/loadgen)');
      return false;
    }
    t.plan(0, 'not run: the compiled load generator needs Go (https://go.dev)');
    return false;
  }
}
