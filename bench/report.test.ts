import t from 'tap';
import { pickRuns, renderTable, replaceBetweenMarkers, summarise, type RunFile } from './report';

const run = (scenario: string, at: string, params: object, rest: object = {}): RunFile => ({
  scenario, name: `${scenario}-${at}`, json: { at, node: 'v20.20.2', scenario, params, ...rest },
});

t.test('the newest run with the default parameters is picked; a --quick run only when there is no other', async (t) => {
  const files = [
    run('gifts', '2026-11-26T10:00:00.000Z', { fans: 50, seconds: 10 }, { runs: [{ store: 'sqlite', giftsPerSecond: 1000 }] }),
    run('gifts', '2026-11-26T12:00:00.000Z', { fans: 50, seconds: 10 }, { runs: [{ store: 'sqlite', giftsPerSecond: 2000 }] }),
    run('gifts', '2026-11-26T13:00:00.000Z', { fans: 8, seconds: 2 }, { runs: [{ store: 'sqlite', giftsPerSecond: 9 }] }),
    run('ledger', '2026-11-26T13:00:00.000Z', { postings: 3000 }, { runs: [] }),
  ];
  const picked = pickRuns(files, { gifts: { fans: 50, seconds: 10 }, ledger: { postings: 1_000_000 }, fanout: { viewers: 2000 } });
  t.same(picked.map((p) => [p.run.scenario, String(p.run.json.at).slice(11, 13), p.fullSize]), [['gifts', '12', true], ['ledger', '13', false]],
    'gifts: the newest full-size run, not the newer quick one; ledger: only a quick run, marked; fanout: none');
  t.same(picked[1]!.differs, ['postings 3000'], 'the parameters that are not the defaults');
  t.match(renderTable([picked[1]!], () => null), /\| ledger \(not the default size: postings 3000\) \|/);
});

t.test('rows say what was measured, per target, with ratios and the generator-bound warning', async (t) => {
  const fanout = run('fanout', '2026-11-26T15:19:36.434Z', { viewers: 2000 }, {
    results: [{ target: 'halobuzz', label: 'HaloBuzz on uws', metrics: { deliveredPerSecond: 150000, p50: 4, p99: 8.1, rssBytesPerConnection: 10752, serverCpuMsPer1kDeliveries: 2.33 } }],
    ratios: { cpuPerDeliveryVsBaseline: 0.24 },
    generatorBound: ['halobuzz: generator at 95% of a core'],
  });
  t.same(summarise(fanout), ['HaloBuzz on uws: 150,000 delivered/s, p50 / p99 4 / 8.1 ms, server CPU 2.33 µs/delivery, 10.5 KB RSS per connection']);
  const table = renderTable([{ run: fanout, fullSize: true }], () => 'charts/fanout.svg');
  t.match(table, /\| fanout \| 2026-11-26 15:19 UTC, Node v20\.20\.2 \| HaloBuzz on uws: 150,000 delivered\/s/);
  t.match(table, /\*\*generator-bound\*\*/);
  t.match(table, /cpuPerDeliveryVsBaseline 0\.24/);
  t.match(table, /\[svg\]\(charts\/fanout\.svg\)/);
  const memory = run('memory', '2026-11-26T20:15:15.392Z', { connections: 18000 }, {
    results: [{ target: 'halobuzz', label: 'HaloBuzz on uws', metrics: { connections: 18000, baselineRssBytes: 290222080, idleBytesPerConnection: 1496, subscribedBytesPerConnection: 1306 } }],
  });
  t.same(summarise(memory), ['HaloBuzz on uws: 1.46 KB per idle connection, 1.28 KB per subscribed one (RSS after collection, 18,000 connections; the empty server 277 MB)']);
  const split = run('fanout', '2026-11-26T15:19:36.434Z', { viewers: 2000 }, {
    results: [{ target: 'halobuzz', label: 'HaloBuzz on uws', metrics: { serverCpuMsPer1kDeliveries: 2.33, serverUserCpuUsPerDelivery: 0.61 } }],
  });
  t.same(summarise(split), ['HaloBuzz on uws: server CPU 2.33 µs/delivery (user space 0.61)'], 'user-space CPU beside the total when the run has it');
  const unknown = run('codec', '2026-11-26T15:00:00.000Z', {}, { decodeOpsPerSecond: 1234567.891, nested: { ratio: 1.5 } });
  t.same(summarise(unknown), ['decodeOpsPerSecond 1,234,567.89, nested.ratio 1.5'], 'scenarios without their own wording list their numbers');
});

t.test('the table replaces only what lies between the markers, and is appended once when they are missing', async (t) => {
  const first = replaceBetweenMarkers('# Benchmarks\n\ntext\n', 'TABLE 1');
  t.match(first, /text\n\n<!-- results:begin[^\n]*-->\nTABLE 1\n<!-- results:end -->\n$/);
  const second = replaceBetweenMarkers(`${first}\n## After\nmore\n`, 'TABLE 2');
  t.notMatch(second, /TABLE 1/);
  t.match(second, /TABLE 2\n<!-- results:end -->\n\n## After\nmore/);
  t.equal(second.split('results:begin').length, 2, 'one block');
});
