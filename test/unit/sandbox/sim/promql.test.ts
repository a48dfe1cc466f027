import assert from 'node:assert/strict';
import { Tsdb } from '../../../../src/sandbox/sim/tsdb';
import { instantQuery, rangeQuery, parsePromQL, PromQLError, histogramQuantile } from '../../../../src/sandbox/sim/promql';

// Counters scraped every 10 s for 2 minutes: pod a (v1) serves 9 ok + 1 error per second,
// pod b (v2) 4 ok + 1 error per second; plus a latency histogram for pod a.
function db(): Tsdb {
  const d = new Tsdb({ scrapeIntervalMs: 10_000 });
  for (let i = 0; i <= 12; i++) {
    const t = i * 10_000;
    d.append({ __name__: 'http_requests_total', pod: 'a', version: 'v1', code: '200' }, t, i * 90);
    d.append({ __name__: 'http_requests_total', pod: 'a', version: 'v1', code: '500' }, t, i * 10);
    d.append({ __name__: 'http_requests_total', pod: 'b', version: 'v2', code: '200' }, t, i * 40);
    d.append({ __name__: 'http_requests_total', pod: 'b', version: 'v2', code: '503' }, t, i * 10);
    // 60% of requests under 0.1 s, 90% under 0.5 s, all under 1 s.
    for (const [le, share] of [['0.1', 0.6], ['0.5', 0.9], ['1', 1], ['+Inf', 1]] as const) {
      d.append({ __name__: 'lat_bucket', pod: 'a', le }, t, i * 100 * share);
    }
  }
  return d;
}

const T = 120_000;
const vec = (q: string, d = db(), t = T) => {
  const r = instantQuery(d, q, t);
  assert.equal(r.resultType, 'vector');
  return (r.result as { metric: Record<string, string>; value: [number, string] }[]).map((s) => ({ m: s.metric, v: Number(s.value[1]) }));
};
const one = (q: string) => {
  const r = vec(q);
  assert.equal(r.length, 1, `one sample for ${q}: ${JSON.stringify(r)}`);
  return r[0].v;
};
const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} ≈ ${b}`);

describe('sandbox PromQL subset', () => {
  it('selects with every matcher type and keeps the metric name', () => {
    assert.equal(vec('http_requests_total').length, 4);
    assert.equal(vec('http_requests_total{code="200"}').length, 2);
    assert.equal(vec('http_requests_total{code!="200"}').length, 2);
    assert.equal(vec('http_requests_total{code=~"5.."}').length, 2);
    assert.equal(vec('http_requests_total{code!~"5..", version="v2"}').length, 1);
    assert.equal(vec('{__name__=~"http_.*", pod="a"}').length, 2);
    assert.equal(vec('http_requests_total{code="200",pod="a"}')[0].m.__name__, 'http_requests_total');
    assert.equal(one('http_requests_total{code="200",pod="a"}'), 1080);
    assert.equal(one('http_requests_total{code="200",pod="a"} offset 1m'), 540);
  });

  it('rate, irate and increase follow Prometheus (extrapolated to the window)', () => {
    close(one('rate(http_requests_total{code="200",pod="a"}[1m])'), 9);
    close(one('irate(http_requests_total{code="503",pod="b"}[1m])'), 1);
    close(one('increase(http_requests_total{code="200",pod="b"}[1m])'), 240);
    const r = vec('rate(http_requests_total{pod="a"}[1m])');
    assert.ok(r.every((s) => s.m.__name__ === undefined), 'rate drops the metric name');
  });

  it('handles counter resets', () => {
    const d = new Tsdb();
    [0, 10, 20, 5, 15].forEach((v, i) => d.append({ __name__: 'c' }, i * 10_000, v));
    // The window (0 s, 40 s] holds 10, 20, 5, 15: (15 - 10) + 20 lost at the reset = 25 over 30 s of samples,
    // extrapolated by 10 s to the window start (less than 1.1 sample intervals away).
    close(Number((instantQuery(d, 'increase(c[40s])', 40_000).result as { value: [number, string] }[])[0].value[1]), (25 * 40) / 30);
  });

  it('aggregates with by and without', () => {
    const byVersion = vec('sum by (version) (rate(http_requests_total[1m]))').sort((a, b) => a.m.version.localeCompare(b.m.version));
    assert.deepEqual(byVersion.map((s) => [s.m, Math.round(s.v)]), [[{ version: 'v1' }, 10], [{ version: 'v2' }, 5]]);
    assert.deepEqual(vec('sum without (code, pod) (rate(http_requests_total[1m]))').map((s) => s.m).sort((a, b) => a.version.localeCompare(b.version)), [{ version: 'v1' }, { version: 'v2' }]);
    close(one('sum(rate(http_requests_total[1m]))'), 15);
    close(one('avg(rate(http_requests_total[1m]))'), 15 / 4);
    close(one('max(rate(http_requests_total[1m]))'), 9);
    close(one('min(rate(http_requests_total[1m]))'), 1);
    assert.equal(one('count(http_requests_total)'), 4);
    assert.deepEqual(vec('topk(1, rate(http_requests_total[1m]))').map((s) => s.m.code + s.m.pod), ['200a']);
  });

  it('the success-rate query: vector / vector with matching labels, times a scalar', () => {
    const q = 'sum by (version) (rate(http_requests_total{code!~"5.."}[1m])) / sum by (version) (rate(http_requests_total[1m])) * 100';
    const r = Object.fromEntries(vec(q).map((s) => [s.m.version, s.v]));
    close(r.v1, 90, 1e-6);
    close(r.v2, 80, 1e-6);
    close(one('sum(rate(http_requests_total{version="v2",code=~"5.."}[1m])) / sum(rate(http_requests_total{version="v2"}[1m]))'), 0.2);
  });

  it('binary matching: on, ignoring, group_left, comparisons and bool, set operators', () => {
    const errs = vec('http_requests_total{code=~"5.."} / ignoring(code) http_requests_total{code="200"}');
    assert.equal(errs.length, 2);
    assert.deepEqual(vec('rate(http_requests_total{code="200"}[1m]) / on(pod) group_left sum by (pod) (rate(http_requests_total[1m]))').map((s) => [s.m.pod, s.m.code, Math.round(s.v * 10)]).sort(), [['a', '200', 9], ['b', '200', 8]]);
    assert.deepEqual(vec('rate(http_requests_total[1m]) > 5').map((s) => s.m.pod), ['a']);
    assert.equal(vec('rate(http_requests_total[1m]) > bool 3').length, 4);
    assert.equal(vec('http_requests_total{pod="a"} and http_requests_total{code="200"}').length, 1);
    assert.equal(vec('http_requests_total{pod="a"} unless http_requests_total{code="200"}').length, 1);
    assert.equal(vec('http_requests_total{pod="a"} or http_requests_total{pod="b"}').length, 4);
    assert.throws(() => vec('http_requests_total / on(pod) http_requests_total'), (e: unknown) => e instanceof PromQLError && /many/.test(e.message));
  });

  it('scalars, unary minus, functions', () => {
    assert.deepEqual(instantQuery(db(), '1 + 2 * 3', T).result, [120, '7']);
    assert.deepEqual(instantQuery(db(), '-(2 ^ 3 ^ 2)', T).result, [120, '-512']);
    assert.deepEqual(instantQuery(db(), '1 > bool 2', T).result, [120, '0']);
    assert.deepEqual(instantQuery(db(), '1 / 0', T).result, [120, '+Inf']);
    close(one('clamp_max(rate(http_requests_total{code="200",pod="a"}[1m]), 5)'), 5);
    close(one('round(rate(http_requests_total{code="200",pod="a"}[1m]) / 7, 0.1)'), 1.3);
    assert.deepEqual(vec('absent(nope{job="x"})').map((s) => [s.m, s.v]), [[{ job: 'x' }, 1]]);
    assert.deepEqual(vec('absent(http_requests_total)'), []);
  });

  it('histogram_quantile interpolates within buckets', () => {
    close(one('histogram_quantile(0.5, sum by (le) (rate(lat_bucket[1m])))'), 0.1 * (0.5 / 0.6));
    close(one('histogram_quantile(0.75, rate(lat_bucket[1m]))'), 0.1 + 0.4 * (0.15 / 0.3));
    close(one('histogram_quantile(0.99, rate(lat_bucket[1m]))'), 0.5 + 0.5 * (0.09 / 0.1));
    assert.deepEqual(histogramQuantile(0.5, [{ labels: { le: '+Inf' }, v: 0 }, { labels: { le: '1' }, v: 0 }]).map((s) => Number.isNaN(s.v)), [true]);
  });

  it('no data is an empty result, never a number', () => {
    assert.deepEqual(vec('http_requests_total{version="v9"}'), []);
    assert.deepEqual(vec('sum(rate(http_requests_total{version="v9"}[1m]))'), []);
    assert.deepEqual(vec('sum(rate(http_requests_total{version="v9"}[1m])) / sum(rate(http_requests_total[1m]))'), []);
    assert.deepEqual(vec('rate(http_requests_total[1m])', db(), 10 * 60_000), [], 'samples older than the window');
    assert.deepEqual(vec('http_requests_total', db(), 30 * 60_000), [], 'older than the 5 m lookback');
  });

  it('stale series disappear at once', () => {
    const d = db();
    for (const s of d.select([{ name: 'pod', type: '=', value: 'b' }])) d.markStale(s.key, 125_000);
    assert.equal(vec('http_requests_total', d, 130_000).length, 2);
    assert.equal(vec('http_requests_total', d, 121_000).length, 4);
  });

  it('range queries evaluate at every step', () => {
    const r = rangeQuery(db(), 'sum(rate(http_requests_total[1m]))', 60_000, 120_000, 30_000);
    assert.equal(r.resultType, 'matrix');
    const values = (r.result as { values: [number, string][] }[])[0].values;
    assert.deepEqual(values.map((v) => v[0]), [60, 90, 120]);
    assert.throws(() => rangeQuery(db(), 'x', 0, 1, 0), /step/);
    assert.throws(() => rangeQuery(db(), 'x[1m]', 0, 1000, 100), /range query/);
  });

  it('refuses what it does not support, in words, and rejects bad queries', () => {
    const err = (q: string, re: RegExp) => assert.throws(() => parsePromQL(q), (e: unknown) => e instanceof PromQLError && re.test(e.message), q);
    err('rate(x[5m:1m])', /subqueries/);
    err('x @ 100', /@ modifier/);
    err('predict_linear(x[5m], 60)', /unsupported.*predict_linear/);
    err('count_values("v", x)', /aggregation count_values/);
    err('sum(', /parse error/);
    err('rate(x)', /expected type range vector in call to function "rate", got instant vector/);
    err('sum(x[5m])', /expected type instant vector in aggregation/);
    err('1 > 2', /BOOL/);
    err('{code="200"} and 1', /set operator/);
    err('{foo=""}', /at least one non-empty matcher/);
    err('x{a=~"("}', /invalid regular expression/);
    err('', /no expression/);
  });
});
