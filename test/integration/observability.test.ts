/**
 * The operators' view (issue #22): the alert rules pass promtool's checks and their unit tests
 * (deploy/prometheus/alerts.test.yml); they cover what an operator must hear about; every metric an alert
 * or a dashboard panel (deploy/grafana/halobuzz.json) reads is one the server exports; and every panel's
 * query is valid PromQL. A real Prometheus scraping a cluster is in test/e2e/stateless.test.ts.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ALERT_RULES, PROMTOOL } from '../helpers/prometheus';
import { servicesRequired } from '../helpers/services';

const root = join(__dirname, '..', '..', '..');
const exported = new Set([...readFileSync(join(root, 'core', 'metrics.ts'), 'utf8').matchAll(/name: '(halobuzz_[a-z_]+)'/g)].map((m) => m[1]!));
/** Metric names in a PromQL expression (prom-client adds _total to counters only where the name says so). */
const metricsOf = (expr: string) => [...expr.matchAll(/\b(halobuzz_[a-z_]+)\b/g)].map((m) => m[1]!);

if (!PROMTOOL && !servicesRequired()) {
  t.plan(0, 'not run: needs promtool (deploy/local/services up installs Debian\'s prometheus)');
} else {
  t.test('promtool: the rules are valid and their unit tests pass', async (t) => {
    if (!PROMTOOL) return void t.fail('promtool is not installed: deploy/local/services up installs it');
    const check = spawnSync(PROMTOOL, ['check', 'rules', ALERT_RULES], { encoding: 'utf8' });
    t.equal(check.status, 0, `promtool check rules${check.status === 0 ? '' : `: ${check.stdout}${check.stderr}`}`);
    const unit = spawnSync(PROMTOOL, ['test', 'rules', join(root, 'deploy', 'prometheus', 'alerts.test.yml')], { encoding: 'utf8' });
    t.equal(unit.status, 0, `promtool test rules${unit.status === 0 ? '' : `: ${unit.stdout}${unit.stderr}`}`);
    t.match(unit.stdout + unit.stderr, /SUCCESS/);
  });

  t.test('the alerts cover slow consumers, mailboxes, Kafka lag, ledger operations, worker restarts and pushes, on exported metrics', async (t) => {
    const rules = (parse(readFileSync(ALERT_RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
    const watched = new Set(rules.flatMap((r) => metricsOf(r.expr)));
    for (const metric of ['halobuzz_closes_total', 'halobuzz_mailbox_depth', 'halobuzz_kafka_consumer_lag', 'halobuzz_ledger_oldest_pending_seconds', 'halobuzz_ledger_pending_operations', 'halobuzz_worker_restarts_total', 'halobuzz_pushes_total']) {
      t.ok(watched.has(metric), `an alert watches ${metric}`);
    }
    t.same([...watched].filter((m) => !exported.has(m)), [], 'every metric the alerts read is exported by core/metrics.ts');
    const tests = readFileSync(join(root, 'deploy', 'prometheus', 'alerts.test.yml'), 'utf8');
    t.same(rules.map((r) => r.alert).filter((a) => !tests.includes(`alertname: ${a}`)), [], 'every alert has a unit test');
  });

  t.test('the Grafana dashboard reads exported metrics with valid PromQL', async (t) => {
    const dashboard = JSON.parse(readFileSync(join(root, 'deploy', 'grafana', 'halobuzz.json'), 'utf8')) as { uid: string; panels: { title: string; targets: { expr: string }[] }[] };
    t.ok(dashboard.uid && dashboard.panels.length >= 10, `${dashboard.panels.length} panels`);
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((x) => x.expr));
    t.same([...new Set(exprs.flatMap(metricsOf))].filter((m) => !exported.has(m)), [], 'every metric a panel reads is exported');
    if (!PROMTOOL) return void t.fail('promtool is not installed');
    // promtool checks PromQL inside rule files: each query as a recording rule.
    const dir = mkdtempSync(join(tmpdir(), 'hb-grafana-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'panels.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'panels', rules: exprs.map((expr, i) => ({ record: `halobuzz:panel_${i}`, expr })) }] }));
    const check = spawnSync(PROMTOOL, ['check', 'rules', file], { encoding: 'utf8' });
    t.equal(check.status, 0, `every panel query parses${check.status === 0 ? '' : `: ${check.stdout}${check.stderr}`}`);
  });
}
