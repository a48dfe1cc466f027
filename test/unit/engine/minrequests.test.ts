// A check must not judge a canary on too few requests (analysis.minRequests): the pure verdict with
// counts below, at and above the minimum, with and without a baseline and with a custom count query,
// then the state machine against the fake cluster: a low-traffic canary with one error waits with the
// reason instead of rolling back, calls a human when it stays short, and passes once traffic arrives.
import assert from 'node:assert/strict';
import {
  DEFAULT_QUERIES, DEFAULT_REQUESTS_QUERY, checkVerdict, countOf, inconclusiveSummary, judge, queryWindow, renderQuery, requestsTemplate,
  type RequestCounts, type Sample,
} from '../../../src/engine/analysis';
import { inconclusiveBeforeHuman } from '../../../src/engine/machine';
import { waitsForHuman } from '../../../src/engine/attention';
import type { Analysis } from '../../../src/deployfile/model';
import type { Measurement, RolloutSnapshot } from '../../../src/engine/snapshot';
import { World, examplePipeline, planOf, settle, terminal } from './harness';
import { renderText } from '../../../src/cli/commands/rollout';
import { checkRow, stageModels } from '../../../src/webview/model';
import { checkLine } from '../../../src/extension/tree/details';
import { resultItems } from '../../../src/extension/testing/results';

const value = (v: number): Sample => ({ kind: 'value', value: v });
const counts = (canary: number | Sample, opts: { baseline?: number | Sample; min?: number; window?: string } = {}): RequestCounts => {
  const s = (x: number | Sample): Sample => (typeof x === 'number' ? value(x) : x);
  return { min: opts.min ?? 100, canary: s(canary), ...(opts.baseline !== undefined ? { baseline: s(opts.baseline) } : {}), window: 'window' in opts ? opts.window : '1m' };
};
const VARS = { namespace: 'shop', pipeline: 'checkout', version: 'canary', service: 'checkout', deployment: 'checkout' };

describe('analysis: minimum sample size (pure)', () => {
  it('below the minimum a check is inconclusive whatever the value, and says how short it was', () => {
    // The flaw: 59 of 60 is 98.3%, under 99.5% on a single 5xx.
    const j = judge('successRate', 99.5, value((59 / 60) * 100), undefined, counts(60));
    assert.equal(j.verdict, 'inconclusive');
    assert.equal(j.message, 'success rate 98.3%, too few requests to judge: 60 in the last 1m, needs 100');
    assert.ok(j.value !== null && Math.abs(j.value - 98.333) < 0.01, 'the measured value is kept for the record and the charts');
    // A perfect value on 42 requests is no evidence either: it does not pass.
    assert.equal(judge('successRate', 99.5, value(100), undefined, counts(42)).verdict, 'inconclusive');
    assert.equal(judge('latencyP99Ms', 800, value(2500), undefined, counts(99)).verdict, 'inconclusive');
  });

  it('at the minimum and above, the value is judged as before', () => {
    // Exactly 100 requests with one 5xx: 99%, which meets a 99% threshold.
    const at = judge('successRate', 99, value(99), undefined, counts(100));
    assert.equal(at.verdict, 'pass');
    assert.equal(at.message, 'success rate 99% ≥ 99%');
    const above = judge('successRate', 99.5, value(91.2), undefined, counts(5000));
    assert.equal(above.verdict, 'fail');
    assert.equal(above.message, 'success rate 91.2% < 99.5%');
    assert.equal(judge('latencyP50Ms', 250, value(300), undefined, counts(101)).verdict, 'fail');
  });

  it('counts from increase() are fractional: they are rounded before the comparison', () => {
    assert.equal(countOf(value(99.6)), 100);
    assert.equal(countOf(value(99.4)), 99);
    assert.equal(countOf({ kind: 'noData' }), 0, 'no series: no request yet');
    assert.equal(countOf({ kind: 'error', message: 'x' }), null);
    assert.equal(judge('successRate', 99, value(100), undefined, counts(99.6)).verdict, 'pass');
    assert.equal(judge('successRate', 99, value(100), undefined, counts(99.4)).verdict, 'inconclusive');
  });

  it('no request at all is "no data" (a routing problem, not bad luck); a failed count query is an error', () => {
    const none = judge('successRate', 99, { kind: 'noData' }, undefined, counts({ kind: 'noData' }));
    assert.equal(none.verdict, 'noData');
    assert.equal(none.message, 'success rate: no data: no requests reached the canary in the last 1m');
    assert.equal(judge('successRate', 99, value(100), undefined, counts(0)).verdict, 'noData');
    const err = judge('successRate', 99, value(100), undefined, counts({ kind: 'error', message: 'bad_data: parse error' }));
    assert.equal(err.verdict, 'error');
    assert.equal(err.message, 'success rate: request count query failed: bad_data: parse error');
    // Enough requests but no value (e.g. no latency histogram exported): no data, saying so.
    const missing = judge('latencyP99Ms', 800, { kind: 'noData' }, undefined, counts(500));
    assert.equal(missing.verdict, 'noData');
    assert.equal(missing.message, 'latency p99: no data for the canary (500 requests in the last 1m, but the query returned no value)');
    // The metric query's own failure still wins: it is what the user has to fix first.
    assert.equal(judge('successRate', 99, { kind: 'error', message: 'down' }, undefined, counts(5)).verdict, 'error');
  });

  it('minRequests 0 (or no count) judges any sample, as before the minimum existed', () => {
    assert.equal(judge('successRate', 99.5, value(98.3), undefined, counts(60, { min: 0 })).verdict, 'fail');
    assert.equal(judge('successRate', 99.5, value(98.3)).verdict, 'fail');
  });

  it('with a baseline: the canary under the minimum is inconclusive even when the baseline has plenty', () => {
    const j = judge('successRate', 99, value(90), value(99.9), counts(50, { baseline: 5000 }));
    assert.equal(j.verdict, 'inconclusive');
    assert.equal(j.baselineValue, 99.9);
  });

  it('with a baseline under the minimum, the canary is judged on the threshold alone', () => {
    // A baseline at 96% on 3 requests would excuse a canary at 97%: it must not.
    const f = judge('successRate', 99, value(97), value(96), counts(150, { baseline: 3 }));
    assert.equal(f.verdict, 'fail');
    assert.equal(f.message, 'success rate 97% < 99% (baseline not compared: too few requests, 3 in the last 1m, needs 100)');
    assert.equal(f.baselineValue, 96, 'the baseline value is still recorded');
    const p = judge('successRate', 99, value(99.6), value(96), counts(150, { baseline: 3 }));
    assert.equal(p.verdict, 'pass');
    // A baseline whose count failed is not compared either.
    const e = judge('latencyP50Ms', 250, value(300), value(320), counts(150, { baseline: { kind: 'error', message: 'timeout' } }));
    assert.equal(e.verdict, 'fail');
    assert.match(e.message, /baseline not compared: its request count query failed: timeout/);
  });

  it('with a baseline at or above the minimum, the comparison is as before', () => {
    const j = judge('successRate', 99, value(97), value(96.5), counts(150, { baseline: 100 }));
    assert.equal(j.verdict, 'pass');
    assert.equal(j.message, 'success rate 97% < 99% (baseline 96.5%)');
    assert.equal(judge('successRate', 99, value(90), value(99.9), counts(150, { baseline: 150 })).verdict, 'fail');
  });

  it('the default count query uses the metric queries\' selector and window; a custom one replaces it', () => {
    const a = { queries: undefined } as unknown as Analysis;
    assert.equal(requestsTemplate(a), DEFAULT_REQUESTS_QUERY);
    const r = renderQuery(DEFAULT_REQUESTS_QUERY, VARS);
    const m = renderQuery(DEFAULT_QUERIES.successRate, VARS);
    assert.ok(r.ok && m.ok);
    assert.equal(r.query, 'sum(increase(http_requests_total{namespace="shop",kube_delivery_dev_pipeline="checkout",kube_delivery_dev_track="canary"}[1m]))');
    assert.ok(m.query.includes('http_requests_total{namespace="shop",kube_delivery_dev_pipeline="checkout",kube_delivery_dev_track="canary"}[1m]'), 'same selector and window as the success rate');
    const custom = { queries: { requests: 'sum(increase(requests_total{app="{{service}}",track="{{version}}"}[5m]))' } } as unknown as Analysis;
    const c = renderQuery(requestsTemplate(custom), VARS);
    assert.ok(c.ok);
    assert.equal(c.query, 'sum(increase(requests_total{app="checkout",track="canary"}[5m]))');
    const j = judge('successRate', 99, value(98), undefined, counts(42, { window: queryWindow(c.query) }));
    assert.equal(j.message, 'success rate 98%, too few requests to judge: 42 in the last 5m, needs 100');
  });

  it('reads the window from the range selectors, ignoring brackets inside label values', () => {
    assert.equal(queryWindow('sum(increase(x{code=~"[45].."}[2m]))'), '2m');
    assert.equal(queryWindow('sum(rate(x[1m30s])) * 90'), '1m30s');
    assert.equal(queryWindow('max_over_time(sum(rate(x[1m]))[10m:1m])'), undefined, 'two different windows');
    assert.equal(queryWindow('sum(x)'), undefined);
    const j = judge('successRate', 99, value(98), undefined, counts(7, { window: undefined }));
    assert.equal(j.message, 'success rate 98%, too few requests to judge: 7 in the query window, needs 100');
  });

  it('a check with an inconclusive measurement is inconclusive unless something is worse; a summary names the count once', () => {
    assert.equal(checkVerdict([{ verdict: 'pass' }, { verdict: 'inconclusive' }]), 'inconclusive');
    assert.equal(checkVerdict([{ verdict: 'inconclusive' }, { verdict: 'noData' }]), 'noData');
    assert.equal(checkVerdict([{ verdict: 'inconclusive' }, { verdict: 'error' }]), 'error');
    assert.equal(checkVerdict([{ verdict: 'inconclusive' }, { verdict: 'fail' }]), 'fail');
    const requests = { canary: 42, min: 100, window: '1m', query: 'q' };
    const ms: Pick<Measurement, 'verdict' | 'metric' | 'value' | 'requests' | 'message'>[] = [
      { verdict: 'inconclusive', metric: 'successRate', value: 97.619, requests, message: 'm1' },
      { verdict: 'inconclusive', metric: 'latencyP50Ms', value: 41.2, requests, message: 'm2' },
    ];
    assert.equal(inconclusiveSummary(ms), 'too few requests to judge: 42 in the last 1m, needs 100 (measured: success rate 97.6%, latency p50 41 ms)');
  });

  it('a human is called after as many inconclusive checks in a row as the stage needs, never after one', () => {
    assert.equal(inconclusiveBeforeHuman(1), 2);
    assert.equal(inconclusiveBeforeHuman(2), 2);
    assert.equal(inconclusiveBeforeHuman(5), 5);
  });
});

/** The replicas example (baseline, stage 1: successRate 99, latencyP50Ms 250, checks 2) with its analysis text edited. */
function replicasPlan(analysisExtra = '') {
  const p = examplePipeline('canary-replicas.deploy.yaml', (t) => (analysisExtra ? t.replace('          checks: 2\n', `          checks: 2\n${analysisExtra}`) : t));
  return planOf(p);
}

const stage1Checks = (s: RolloutSnapshot, metric: Measurement['metric'] = 'successRate') => s.analysis.filter((m) => m.stage === 0 && m.metric === metric);

describe('engine: a low-traffic canary is not judged (fake cluster)', function () {
  this.timeout(20_000);
  let world: World;
  afterEach(() => world?.dispose());
  /** A fresh world with a session on `plan`, opened. */
  async function opened(plan: ReturnType<typeof replicasPlan>) {
    world = new World();
    const s = world.session(plan);
    await s.open();
    return s;
  }

  it('one error on 60 requests does not roll back: the stage waits with the reason, calls a human when it stays short, and passes once traffic arrives', async () => {
    const plan = replicasPlan();
    assert.equal(plan.stages[0].analysis?.minRequests, 100, 'the default');
    const s = await opened(plan);
    world.cluster.traffic.canary = { requests: 60, errors: 1 };
    const seen: RolloutSnapshot[] = [];
    s.subscribe((x) => seen.push(x));
    assert.deepEqual(await s.start(plan.image, 'test'), { ok: true });

    const first = await world.until(s, (x) => /inconclusive/.test(x.gate?.message ?? '') || terminal(x));
    assert.equal(first.phase, 'waiting', first.reason);
    assert.equal(first.gate?.kind, 'analysis');
    assert.match(first.gate!.message, /^analysis 0 of 2 checks passed; check 1 inconclusive, too few requests to judge: 60 in the last 1m, needs 100 \(measured: success rate 98\.3%, latency p50 40 ms\); next at /);
    const m = stage1Checks(first)[0];
    assert.equal(m.verdict, 'inconclusive');
    assert.ok(m.value !== null && m.value < 99, 'the value alone would have failed the check');
    assert.deepEqual({ ...m.requests, query: undefined }, { canary: 60, baseline: 600, min: 100, window: '1m', query: undefined });
    assert.match(m.requests!.query, /^sum\(increase\(http_requests_total\{namespace="checkout-staging",kube_delivery_dev_pipeline="checkout",kube_delivery_dev_track="canary"\}\[1m\]\)\)$/);
    assert.ok(!waitsForHuman({ phase: first.phase, gateKind: first.gate?.kind }), 'one short window does not call a human');

    const undecided = await world.until(s, (x) => x.gate?.kind === 'noData' || terminal(x));
    assert.equal(undecided.phase, 'waiting', undecided.reason);
    assert.equal(undecided.stage.index, 0);
    assert.match(undecided.gate!.message, /^analysis undecided: 2 checks in a row had too few requests to judge: 60 in the last 1m, needs 100 .*— checks go on, next at .*; promote to accept the stage, abort to roll back, or send the canary more traffic$/);
    assert.ok(undecided.reason.endsWith(undecided.gate!.message), 'the status line says why');
    assert.ok(waitsForHuman({ phase: undecided.phase, gateKind: undecided.gate?.kind }), 'counted as waiting for a human');
    assert.equal(undecided.gate?.checksDone, 0, 'inconclusive checks are not passes');

    // It stays there (no silent pass, no rollback) while traffic stays low, and keeps checking.
    const before = stage1Checks(undecided).length;
    world.clock.advance(5 * 60_000);
    await settle();
    const later = await world.until(s, (x) => stage1Checks(x).length >= before + 3);
    assert.equal(later.stage.index, 0);
    assert.equal(later.gate?.kind, 'noData');
    assert.ok(stage1Checks(later).every((x) => x.verdict === 'inconclusive'));

    // Traffic picks up (one error in 600 is 99.8%): the checks pass on their own and the stage advances.
    world.cluster.traffic.canary = { requests: 600, errors: 1 };
    const next = await world.until(s, (x) => x.gate?.kind === 'manual' || terminal(x));
    assert.equal(next.phase, 'waiting', next.reason);
    assert.equal(next.stage.index, 1);
    const passes = stage1Checks(next).filter((x) => x.verdict === 'pass');
    assert.equal(passes.length, 2, 'the stage still needed its 2 passing checks');
    assert.ok(passes.every((x) => x.requests?.canary === 600));
    assert.ok(!seen.some((x) => x.phase === 'rolledBack' || x.reason.startsWith('rolling back')), 'never rolled back');
    assert.ok(next.events.some((e) => e.reason === 'AnalysisInconclusive' && /check 1: too few requests to judge: 60 in the last 1m, needs 100/.test(e.message)));
    assert.ok(!next.events.some((e) => e.reason === 'AnalysisFailed'));
  });

  it('minRequests: 0 turns the minimum off: the same single error fails the check and rolls back', async () => {
    const plan = replicasPlan('          minRequests: 0\n');
    assert.equal(plan.stages[0].analysis?.minRequests, 0);
    const s = await opened(plan);
    world.cluster.traffic.canary = { requests: 60, errors: 1 };
    await s.start(plan.image, 'test');
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'rolledBack');
    assert.match(done.reason, /analysis failed at stage 1: success rate 98\.3% < 99%/);
    assert.equal(stage1Checks(done)[0].requests, undefined, 'no count asked for');
  });

  it('a custom count query and minimum: the query is sent with its placeholders filled and its window named', async () => {
    const plan = replicasPlan('          minRequests: 200\n          queries:\n            requests: sum(increase(http_requests_total{namespace="{{namespace}}",kube_delivery_dev_track="{{version}}"}[5m]))\n');
    const s = await opened(plan);
    world.cluster.traffic.canary = { requests: 150, errors: 0 };
    await s.start(plan.image, 'test');
    const snap = await world.until(s, (x) => stage1Checks(x).length >= 1 || terminal(x));
    const m = stage1Checks(snap)[0];
    assert.equal(m.verdict, 'inconclusive');
    assert.equal(m.requests?.query, 'sum(increase(http_requests_total{namespace="checkout-staging",kube_delivery_dev_track="canary"}[5m]))');
    assert.match(m.message, /too few requests to judge: 150 in the last 5m, needs 200$/);
    world.cluster.traffic.canary = { requests: 200, errors: 0 };
    const next = await world.until(s, (x) => x.gate?.kind === 'manual' || terminal(x));
    assert.equal(next.stage.index, 1, next.reason);
  });

  it('a baseline under the minimum is not compared with: a canary under the threshold fails on its own', async () => {
    const plan = replicasPlan();
    const s = await opened(plan);
    // The canary is bad on plenty of requests (97%); the baseline, on 3 requests, looks worse (66.7%)
    // and would have excused it.
    world.cluster.traffic.canary = { requests: 600, errors: 18 };
    world.cluster.traffic.baseline = { requests: 3, errors: 1 };
    await s.start(plan.image, 'test');
    const done = await world.until(s, terminal);
    assert.equal(done.phase, 'rolledBack');
    const f = stage1Checks(done).find((x) => x.verdict === 'fail')!;
    assert.equal(f.message, 'success rate 97% < 99% (baseline not compared: too few requests, 3 in the last 1m, needs 100)');
    assert.deepEqual([f.requests?.canary, f.requests?.baseline], [600, 3]);
  });

  it('every surface shows an inconclusive check as such, with its reason: CLI, dashboard, tree, Testing view', async () => {
    const plan = replicasPlan();
    const s = await opened(plan);
    world.cluster.traffic.canary = { requests: 42, errors: 1 };
    await s.start(plan.image, 'test');
    const snap = await world.until(s, (x) => x.gate?.kind === 'noData' || terminal(x));
    const m = stage1Checks(snap).at(-1)!;
    assert.equal(m.verdict, 'inconclusive');
    const text = renderText(snap);
    assert.match(text, /gate {6}noData: analysis undecided: 2 checks in a row had too few requests to judge: 42 in the last 1m, needs 100/);
    assert.match(text, /analysis {2}stage 1 check 2: INCONCLUSIVE success rate 97\.6%, too few requests to judge: 42 in the last 1m, needs 100 · INCONCLUSIVE latency p50 40 ms, too few/);
    const row = checkRow(m);
    assert.equal(row.verdict, 'inconclusive');
    assert.equal(row.verdictLabel, 'too few requests (42 of 100)');
    assert.equal(row.value, '97.62%');
    assert.match(stageModels(snap)[0].detail, /gate: analysis undecided \(no data or too few requests\)$/);
    assert.match(checkLine(m), /· too few requests \(42 of 100\)$/);
    const item = resultItems(snap).find((x) => x.id === `check/0/${m.check}/successRate`)!;
    assert.equal(item.outcome, 'skipped', 'neither passed nor failed');
    assert.match(item.message ?? '', /too few requests to judge: 42 in the last 1m, needs 100/);
  });
});
