/**
 * The deployment files (issue #22), checked offline: the Kubernetes manifests under deploy/k8s (the base
 * and the production overlay, rendered here) validate strictly against the Kubernetes 1.33 schemas that
 * kubernetes-validate ships; they say what the runbook says (readiness on /ready, a preStop drain shorter
 * than the grace period, a disruption budget and an autoscaler per Deployment, WebSocket timeouts on the
 * Ingress, default-deny network policies); their environment passes the server's own configuration
 * check; and deploy/nginx/halobuzz.conf passes `nginx -t`.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { engineUrl } from '../helpers/services';
import { loadConfig } from '../../config/config';

const root = join(__dirname, '..', '..', '..');
const k8s = join(root, 'deploy', 'k8s');
const KUBERNETES = '1.33.0';

type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: any; data?: Record<string, string>; stringData?: Record<string, string> };

function load(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc).filter((d) => d !== null);
}

/** Objects merge key by key, anything else replaces: the strategic merge of the scalar patches this overlay uses. */
function merge(base: any, patch: any): any {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = k in base ? merge(base[k], v) : v;
  return out;
}

/** The base, then an overlay's images and patches: enough of kustomize for deploy/k8s/overlays/production. */
function render(dir: string): Doc[] {
  const kustomization = load(join(dir, 'kustomization.yaml'))[0] as any;
  let docs: Doc[] = [];
  for (const r of kustomization.resources as string[]) {
    const path = join(dir, r);
    docs.push(...(existsSync(join(path, 'kustomization.yaml')) ? render(path) : load(path)));
  }
  if (kustomization.namespace) docs = docs.map((d) => (d.kind === 'Namespace' ? d : { ...d, metadata: { ...d.metadata, namespace: kustomization.namespace } }));
  for (const image of kustomization.images ?? []) {
    for (const d of docs) {
      for (const c of d.spec?.template?.spec?.containers ?? []) {
        if (c.image.split(':')[0] === image.name) c.image = `${image.newName ?? image.name}:${image.newTag ?? 'latest'}`;
      }
    }
  }
  for (const p of kustomization.patches ?? []) {
    for (const patch of load(join(dir, p.path))) {
      const i = docs.findIndex((d) => d.kind === patch.kind && d.metadata.name === patch.metadata.name);
      if (i < 0) throw new Error(`patch ${p.path} matches no resource`);
      docs[i] = merge(docs[i], patch);
    }
  }
  return docs;
}

const validator = engineUrl(t, 'kubernetes-validate');
if (validator) {
  const base = render(join(k8s, 'base'));
  const production = render(join(k8s, 'overlays', 'production'));
  const find = (docs: Doc[], kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name);

  t.test('every manifest, base and rendered overlay, validates strictly against the Kubernetes schemas', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'hb-k8s-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    for (const [name, docs] of [['base', base], ['production', production]] as const) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, docs.map((d) => JSON.stringify(d)).join('\n---\n'));
      const r = spawnSync(validator, ['--strict', '-k', KUBERNETES, file], { encoding: 'utf8', timeout: 120_000 });
      t.equal(r.status, 0, `${name}: kubernetes-validate passes${r.status === 0 ? '' : `:\n${r.stdout}${r.stderr}`}`);
      t.equal((r.stdout + r.stderr).match(/passed for resource/g)?.length, docs.length, `${name}: all ${docs.length} resources checked`);
    }
    // The checker does refuse: a resource with a field Kubernetes does not have.
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' }, spec: { bogus: 1 } }));
    t.not(spawnSync(validator, ['--strict', '-k', KUBERNETES, bad]).status, 0, 'an unknown field fails the check');
    t.equal(find(production, 'Deployment', 'halobuzz-realtime')?.spec.replicas, 6, 'the overlay\'s patch applied');
    t.match(find(production, 'Deployment', 'halobuzz-realtime')?.spec.template.spec.containers[0].image, /^registry\.example\.com\/halobuzz:0\.1\.0$/, 'and its image');
  });

  t.test('socket nodes: readiness on /ready, a preStop drain within the grace period, a budget and an autoscaler', async (t) => {
    const deployment = find(base, 'Deployment', 'halobuzz-realtime')!;
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0];
    t.equal(c.readinessProbe.httpGet.path, '/ready');
    t.equal(c.livenessProbe.httpGet.path, '/health');
    const preStop = Number(c.lifecycle.preStop.exec.command[1]);
    const config = find(base, 'ConfigMap', 'halobuzz-config')!.data!;
    const drainSec = Number(config.HALOBUZZ_SHUTDOWN_GRACE_MS) / 1000;
    // preStop, then the server's drain, then up to 5 s for the Kafka group hand-over.
    t.ok(pod.terminationGracePeriodSeconds > preStop + drainSec + 5, `grace ${pod.terminationGracePeriodSeconds} s > preStop ${preStop} s + drain ${drainSec} s + 5 s`);
    t.equal(deployment.spec.strategy.rollingUpdate.maxUnavailable, 0, 'a rollout adds a node before it drains one');
    for (const name of ['halobuzz-realtime', 'halobuzz-api']) {
      const labels = find(base, 'Deployment', name)!.spec.template.metadata.labels;
      for (const kind of ['Service', 'PodDisruptionBudget']) {
        const selector = find(base, kind, name)?.spec.selector;
        const wanted = selector?.matchLabels ?? selector;
        t.ok(wanted && Object.entries(wanted).every(([k, v]) => labels[k] === v), `${name}: its ${kind} selects its pods`);
      }
      t.equal(find(base, 'HorizontalPodAutoscaler', name)?.spec.scaleTargetRef.name, name, `${name}: autoscaled`);
    }
    const hpa = find(base, 'HorizontalPodAutoscaler', 'halobuzz-realtime')!;
    t.same(hpa.spec.metrics.map((m: { type: string }) => m.type), ['Resource', 'Pods'], 'socket nodes scale on CPU and on connections');
    t.equal(hpa.spec.metrics[1].pods.metric.name, 'halobuzz_connections', 'a metric the server exports');
  });

  t.test('ingress and network policies', async (t) => {
    const ingress = find(base, 'Ingress', 'halobuzz')!;
    t.ok(Number(ingress.metadata.annotations!['nginx.ingress.kubernetes.io/proxy-read-timeout']) >= 3600, 'sockets held for an hour without traffic through the proxy');
    const paths = ingress.spec.rules[0].http.paths as { path: string; backend: { service: { name: string } } }[];
    t.same(paths.map((p) => [p.path, p.backend.service.name]), [['/ws', 'halobuzz-realtime'], ['/', 'halobuzz-api']]);
    const deny = find(base, 'NetworkPolicy', 'default-deny')!;
    t.same(deny.spec.podSelector, {}, 'every pod of the namespace');
    t.same(deny.spec.policyTypes, ['Ingress', 'Egress']);
    const egress = find(base, 'NetworkPolicy', 'to-engines')!.spec.egress.flatMap((e: { ports: { port: number }[] }) => e.ports.map((p) => p.port));
    t.ok([53, 9092, 6379, 27017, 8123, 443].every((p) => egress.includes(p)), 'DNS, the engines and HTTPS are reachable');
  });

  t.test('the manifests\' environment passes the server\'s configuration check, for both roles', async (t) => {
    const env = { ...find(base, 'ConfigMap', 'halobuzz-config')!.data, ...find(base, 'Secret', 'halobuzz-secrets')!.stringData };
    for (const name of ['halobuzz-realtime', 'halobuzz-api']) {
      const c = find(base, 'Deployment', name)!.spec.template.spec.containers[0];
      const own = Object.fromEntries((c.env as { name: string; value?: string }[]).map((e) => [e.name, e.value ?? `${name}-pod-0`]));
      const config = loadConfig({ ...env, ...own } as Record<string, string>);
      t.equal(config.role, own.HALOBUZZ_ROLE, `${name}: loads as ${own.HALOBUZZ_ROLE}`);
      t.match(config.engines, { mongodbUrl: /^mongodb:/, redisUrl: /^redis-cluster:/ }, `${name}: stateless over MongoDB and a Redis Cluster`);
      if (own.HALOBUZZ_ROLE === 'realtime') t.equal(config.cluster?.replicationFactor, 3, 'topics replicated three times');
    }
  });

  t.test('nginx -t accepts deploy/nginx/halobuzz.conf', async (t) => {
    const nginx = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
    if (!nginx) {
      t.fail('nginx is not installed: deploy/local/services up installs it');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'hb-nginx-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const cert = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=live.example.com', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    t.equal(cert.status, 0, 'a throwaway certificate');
    const site = readFileSync(join(root, 'deploy', 'nginx', 'halobuzz.conf'), 'utf8')
      .replace('/etc/nginx/tls/live.example.com.crt', join(dir, 'cert.pem')).replace('/etc/nginx/tls/live.example.com.key', join(dir, 'key.pem'));
    writeFileSync(join(dir, 'site.conf'), site);
    writeFileSync(join(dir, 'nginx.conf'), `pid ${join(dir, 'nginx.pid')};\nerror_log stderr;\nevents {}\nhttp {\n  access_log off;\n  include ${join(dir, 'site.conf')};\n}\n`);
    const r = spawnSync(nginx, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    t.equal(r.status, 0, `nginx -t${r.status === 0 ? '' : `: ${r.stderr}`}`);
    t.match(r.stderr, /syntax is ok/);
  });
}
