import assert from 'node:assert/strict';
import {
  actionModels,
  appendPoints,
  DISPLAY_BUCKETS,
  extendToNow,
  chartSummary,
  checkRow,
  columnsFrom,
  formatDuration,
  gateMarkers,
  headerModel,
  imageTag,
  metricSeries,
  stageModels,
  testRows,
  weightLabels,
} from '../../../src/webview/model';
import { canarySnapshot, iso, measurement, T0, timeline } from './fixtures';

describe('dashboard view model', () => {
  it('header: pipeline, environment, strategy, images, status and reason', () => {
    const m = headerModel(canarySnapshot());
    assert.equal(m.title, 'checkout');
    assert.equal(m.environment, 'staging');
    assert.equal(m.strategy, 'Canary · replicas');
    assert.equal(m.fromImage, 'registry.example.com/checkout:1.7.0');
    assert.equal(m.toImage, 'registry.example.com/checkout:1.8.0');
    assert.equal(m.status, 'Waiting');
    assert.equal(m.tone, 'warn');
    assert.equal(m.stage, 'stage 2 of 3');
    assert.match(m.reason, /waiting for promotion/);
    assert.equal(m.error, undefined);
    const failed = headerModel({ ...canarySnapshot({ failing: true }), error: { kind: 'unreachable', message: 'dial tcp 10.0.0.1:6443' } });
    assert.equal(failed.tone, 'error');
    assert.match(failed.error!, /Cluster unreachable: dial tcp 10.0.0.1:6443 \(showing the last known state\)/);
  });

  it('actions: enabled only when allowed, with the engine reason otherwise', () => {
    const s = canarySnapshot();
    const byAction = Object.fromEntries(actionModels(s, false).map((a) => [a.action, a]));
    assert.equal(byAction.promote.enabled, true);
    assert.equal(byAction.resume.enabled, false);
    assert.equal(byAction.resume.title, 'Not available: resume is not possible in this state');
    assert.equal(byAction.retry.enabled, false);
    assert.deepEqual(Object.keys(byAction), ['promote', 'promoteFull', 'pause', 'resume', 'retry', 'abort']);
    const prot = actionModels(canarySnapshot({ protectedEnv: true }), true);
    assert.match(prot[0].title, /protected environment: you will be asked to type "production"/);
    const busy = actionModels(s, false, new Set(['promote']));
    assert.equal(busy[0].enabled, false);
  });

  it('stages: done/current/pending with weights and gate type', () => {
    const m = stageModels(canarySnapshot());
    assert.deepEqual(m.map((x) => x.state), ['done', 'current', 'pending']);
    assert.equal(m[0].detail, 'canary 10% · baseline 10% · stable 80% · auto · gate: analysis');
    assert.equal(m[1].current, true);
    assert.match(m[1].detail, /manual promotion/);
  });

  it('checks: value against threshold, and "no data" as such', () => {
    const fail = checkRow(measurement(0, 2, 'successRate', 91.2, iso(T0), 99.9));
    assert.equal(fail.verdictLabel, 'FAIL');
    assert.equal(fail.value, '91.2%');
    assert.equal(fail.threshold, '≥ 99%');
    assert.equal(fail.baseline, '99.9%');
    assert.match(fail.query, /http_requests_total/);
    const none = checkRow(measurement(1, 1, 'latencyP50Ms', null, iso(T0)));
    assert.equal(none.verdictLabel, 'no data');
    assert.equal(none.value, 'no data');
    assert.equal(none.threshold, '≤ 250 ms');
    assert.equal(none.stage, '2');
  });

  it('metric series per metric, sorted by time, with thresholds and gaps for no data', () => {
    const s = metricSeries([
      measurement(0, 2, 'successRate', null, iso(T0 + 2000), 99),
      measurement(0, 1, 'successRate', 99.5, iso(T0 + 1000), 99.9),
      measurement(0, 1, 'latencyP50Ms', 100, iso(T0 + 1000)),
    ]);
    assert.deepEqual(s.map((x) => x.metric), ['successRate', 'latencyP50Ms']);
    assert.deepEqual(s[0].x, [T0 / 1000 + 1, T0 / 1000 + 2]);
    assert.deepEqual(s[0].canary, [99.5, null]);
    assert.deepEqual(s[0].threshold, [99, 99]);
    assert.equal(s[0].hasBaseline, true);
    assert.equal(s[1].hasBaseline, false);
  });

  it('traffic columns: cumulative stacks, requested lines, stage boundaries, appended in place', () => {
    const tl = timeline(9, 2);
    const cols = columnsFrom(tl.slice(0, 5));
    const xRef = cols.x;
    appendPoints(cols, tl.slice(5));
    assert.equal(cols.x, xRef, 'the same array grows');
    assert.equal(cols.x.length, 9);
    for (let i = 0; i < 9; i++) {
      const p = tl[i];
      assert.equal(cols.aCanary[i], p.actual.canary);
      assert.equal(cols.aBase[i], p.actual.canary + p.actual.baseline);
      assert.equal(cols.aTotal[i], 100);
      assert.equal(cols.rCanary[i], p.requested.canary);
    }
    assert.deepEqual(cols.boundaries.map((b) => b.stage), [1, 2]);
    assert.equal(cols.boundaries[0].x, Date.parse(tl.find((p) => p.stage === 1)!.at) / 1000);
  });

  it('long timelines are decimated per time bucket, keeping first, last and canary extremes; incremental equals batch', () => {
    const tl = timeline(20_000, 1, T0, (6 * 3600 * 1000) / 20_000);
    // A one-point canary spike in the middle must survive decimation.
    tl[10_001] = { ...tl[10_001], actual: { canary: 77, baseline: 10, current: 13 } };
    const batch = columnsFrom(tl);
    const inc = columnsFrom(tl.slice(0, 10));
    for (let i = 10; i < tl.length; i += 37) appendPoints(inc, tl.slice(i, Math.min(tl.length, i + 37)));
    assert.equal(batch.raw.x.length, 20_000);
    assert.ok(batch.x.length <= 4 * (DISPLAY_BUCKETS + 1), `display points ${batch.x.length}`);
    assert.ok(batch.x.length >= DISPLAY_BUCKETS / 2);
    for (const k of ['x', 'aCanary', 'aBase', 'aTotal', 'rCanary', 'rBase'] as const) assert.deepEqual(inc[k], batch[k], k);
    assert.equal(batch.x[0], batch.raw.x[0]);
    assert.equal(batch.x[batch.x.length - 1], batch.raw.x[19_999]);
    assert.ok(batch.aCanary.includes(77), 'the spike is drawn');
    for (let i = 1; i < batch.x.length; i++) assert.ok(batch.x[i] >= batch.x[i - 1]);
  });

  it('the display reaches the snapshot time with the last weights, without touching the recorded points', () => {
    const tl = timeline(2, 1);
    const cols = columnsFrom(tl);
    const last = cols.x[1];
    extendToNow(cols, last + 120);
    assert.deepEqual(cols.x, [cols.x[0], last, last + 120]);
    assert.equal(cols.aCanary[2], cols.aCanary[1]);
    extendToNow(cols, last + 180);
    assert.deepEqual(cols.x.slice(2), [last + 180], 'replaced, not accumulated');
    appendPoints(cols, [{ ...tl[1], at: new Date((last + 200) * 1000).toISOString() }]);
    assert.deepEqual(cols.x, [cols.x[0], last, last + 200]);
    assert.equal(cols.raw.x.length, 3);
    extendToNow(cols, last + 10);
    assert.equal(cols.x.length, 3, 'no point before the last one');
  });

  it('out-of-order timestamps are clamped so x stays ascending', () => {
    const tl = timeline(3, 0);
    const cols = columnsFrom([tl[0], tl[2], tl[1]]);
    assert.deepEqual(cols.x, [cols.x[0], cols.x[1], cols.x[1]]);
  });

  it('gate markers for passed gates and the current one', () => {
    const marks = gateMarkers(canarySnapshot());
    assert.deepEqual(marks.map((m) => [m.label, m.current]), [['analysis passed', false], ['waiting: manual promotion', true]]);
  });

  it('chart summary tells the weights, requested when different, stage and gate', () => {
    const s = canarySnapshot({ points: 3600 });
    const text = chartSummary({ ...s, weights: { requested: { canary: 50, baseline: 10, current: 40 }, actual: { canary: 48, baseline: 10, current: 42 } } });
    assert.match(text, /Traffic now: canary 48% · baseline 10% · stable 42%\./);
    assert.match(text, /Requested: canary 50%/);
    assert.match(text, /Stage 2 of 3\./);
    assert.match(text, /Waiting for manual promotion: waiting for promotion\./);
    assert.match(text, /3600 points over 59 min 59 s\./);
    assert.doesNotMatch(chartSummary(s), /Requested/);
  });

  it('blue-green labels the colours instead of canary/stable', () => {
    const s = canarySnapshot();
    const bg = {
      ...s,
      strategy: 'blueGreen' as const,
      versions: [
        { role: 'blue' as const, deployment: 'checkout-blue', image: s.fromImage!, desired: 3, ready: 3, updated: 3, available: 3, active: true },
        { role: 'green' as const, deployment: 'checkout-green', image: s.toImage!, desired: 3, ready: 2, updated: 3, available: 2, active: false },
      ],
    };
    assert.deepEqual(weightLabels(bg), { current: 'blue (current)', baseline: 'baseline', canary: 'green (new)' });
  });

  it('tests: status, stage, duration and log', () => {
    const rows = testRows(canarySnapshot({ failing: true }).tests);
    assert.deepEqual(rows.map((r) => [r.name, r.stage, r.statusLabel, r.duration]), [['smoke', '1', 'passed', '4.2 s'], ['load', '2', 'failed', '—']]);
    assert.equal(rows[1].log, 'error: 12 of 200 requests failed');
    assert.equal(formatDuration(125_000), '2 min 5 s');
    assert.equal(formatDuration(3_900_000), '1 h 5 min');
    assert.equal(imageTag('reg:5000/app:1.8.0'), '1.8.0');
    assert.equal(imageTag('reg:5000/app'), 'latest');
  });
});
