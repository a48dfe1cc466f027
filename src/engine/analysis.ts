// Analysis (pure parts): the PromQL sent per metric and version, the verdict of a measured value against
// its threshold (and against the baseline when there is one), held back as inconclusive when the canary
// had fewer requests than `minRequests` in the window, the human message, and the cron schedule.
import { CronExpressionParser } from 'cron-parser';
import type { Analysis } from '../deployfile/model';
import type { Measurement, SampleSize, Verdict } from './snapshot';

export type MetricName = 'successRate' | 'latencyP50Ms' | 'latencyP99Ms';
export type AnalysisTemplateSet = Partial<Record<MetricName, string>>;

/**
 * Defaults. Pod labels become Prometheus labels with non-alphanumerics replaced by `_`, so the engine's
 * track label `kube-delivery.dev/track` is `kube_delivery_dev_track` and selects one version's pods.
 */
const SEL = 'namespace="{{namespace}}",kube_delivery_dev_pipeline="{{pipeline}}",kube_delivery_dev_track="{{version}}"';
export const DEFAULT_QUERIES: Record<MetricName, string> = {
  successRate: `sum(rate(http_requests_total{${SEL},code!~"5.."}[1m])) / sum(rate(http_requests_total{${SEL}}[1m])) * 100`,
  latencyP50Ms: `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{${SEL}}[1m]))) * 1000`,
  latencyP99Ms: `histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{${SEL}}[1m]))) * 1000`,
};

/**
 * How many requests one version received in the window, to hold against `analysis.minRequests`. A count
 * (increase), not a rate, over the same 1m window and selector as the metric queries.
 */
export const DEFAULT_REQUESTS_QUERY = `sum(increase(http_requests_total{${SEL}}[1m]))`;

export interface QueryVars {
  namespace: string;
  pipeline: string;
  version: string;
  service: string;
  deployment: string;
}

/** Fills `{{name}}` placeholders; an unknown placeholder is an error value, never sent half-filled. */
export function renderQuery(template: string, vars: QueryVars): { ok: true; query: string } | { ok: false; message: string } {
  let bad: string | undefined;
  const query = template.replace(/\{\{\s*([a-zA-Z]+)\s*\}\}/g, (_m, name: string) => {
    const v = (vars as unknown as Record<string, string | undefined>)[name];
    if (v === undefined) {
      bad ??= name;
      return '';
    }
    return v;
  });
  if (bad) return { ok: false, message: `query template uses {{${bad}}}; known: {{namespace}}, {{pipeline}}, {{version}}, {{service}}, {{deployment}}` };
  return { ok: true, query };
}

export const comparatorOf = (m: MetricName): 'min' | 'max' => (m === 'successRate' ? 'min' : 'max');

export function metricsOf(a: Analysis): { metric: MetricName; threshold: number }[] {
  const out: { metric: MetricName; threshold: number }[] = [];
  if (a.successRate !== undefined) out.push({ metric: 'successRate', threshold: a.successRate });
  if (a.latencyP50Ms !== undefined) out.push({ metric: 'latencyP50Ms', threshold: a.latencyP50Ms });
  if (a.latencyP99Ms !== undefined) out.push({ metric: 'latencyP99Ms', threshold: a.latencyP99Ms });
  return out;
}

export function queryTemplate(a: Analysis, m: MetricName): string {
  return a.queries?.[m] ?? DEFAULT_QUERIES[m];
}

export function requestsTemplate(a: Analysis): string {
  return a.queries?.requests ?? DEFAULT_REQUESTS_QUERY;
}

/**
 * The window of a query (`1m` from `[1m]`) when all its range selectors agree, for messages such as
 * "42 in the last 1m"; undefined when they differ or there is none. String literals are skipped, so a
 * matcher like `code=~"[45].."` is not read as a range.
 */
export function queryWindow(query: string): string | undefined {
  const bare = query.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
  const ranges = new Set([...bare.matchAll(/\[\s*((?:\d+(?:ms|[smhdwy]))+)\s*(?::[^\]]*)?\]/g)].map((m) => m[1]));
  return ranges.size === 1 ? [...ranges][0] : undefined;
}

/** Requests behind a check: the minimum and what the count queries returned (canary, and baseline if any). */
export interface RequestCounts {
  min: number;
  canary: Sample;
  baseline?: Sample;
  /** From queryWindow of the count query. */
  window?: string;
}

/** A count from a count query: no samples means no request (no series yet); null when the query failed. */
export function countOf(s: Sample): number | null {
  if (s.kind === 'error') return null;
  if (s.kind === 'noData') return 0;
  // increase() extrapolates to the window's edges, so counts come back fractional (119.6): round.
  return Math.max(0, Math.round(s.value));
}

/** The SampleSize recorded on a measurement. */
export function sampleSize(r: RequestCounts, query: string): SampleSize {
  const out: SampleSize = { canary: countOf(r.canary), min: r.min, query };
  if (r.baseline !== undefined) out.baseline = countOf(r.baseline);
  if (r.window) out.window = r.window;
  return out;
}

const within = (window: string | undefined) => (window ? `in the last ${window}` : 'in the query window');

/** "too few requests to judge: 42 in the last 1m, needs 100" */
export function tooFewRequests(count: number, min: number, window: string | undefined): string {
  return `too few requests to judge: ${count} ${within(window)}, needs ${min}`;
}

const LABELS: Record<MetricName, string> = { successRate: 'success rate', latencyP50Ms: 'latency p50', latencyP99Ms: 'latency p99' };
const unit = (m: MetricName) => (m === 'successRate' ? '%' : ' ms');
function fmt(v: number, m: MetricName): string {
  const r = m === 'successRate' ? Math.round(v * 10) / 10 : Math.round(v);
  return `${r}${unit(m)}`;
}

/** What a query returned: a number, no samples, or an error (Prometheus down, bad query). */
export type Sample = { kind: 'value'; value: number } | { kind: 'noData' } | { kind: 'error'; message: string };

/**
 * The verdict for one metric. With a baseline, the canary is judged against it as well as the threshold:
 * it passes when it meets the threshold or is at least as good as the baseline running the current
 * version under the same load (so a cluster-wide dip does not blame the canary).
 *
 * With `requests` (a minimum sample size), a canary with fewer requests than the minimum in the window is
 * `inconclusive` whatever its value (one failed request in 60 is 98.3%: no evidence either way); none at all
 * is `noData`. A baseline under the minimum is not compared with: the canary is judged on the threshold
 * alone, as when the baseline has no data (a baseline on 3 requests could excuse anything).
 */
export function judge(
  metric: MetricName,
  threshold: number,
  canary: Sample,
  baseline?: Sample,
  requests?: RequestCounts,
): { verdict: Verdict; value: number | null; baselineValue?: number | null; message: string } {
  const name = LABELS[metric];
  const cmp = comparatorOf(metric);
  const baselineValue = baseline === undefined ? undefined : baseline.kind === 'value' ? baseline.value : null;
  if (canary.kind === 'error') return { verdict: 'error', value: null, baselineValue, message: `${name}: query failed: ${canary.message}` };
  const measured = canary.kind === 'value' && Number.isFinite(canary.value) ? canary.value : null;
  let baselineNote: string | undefined;
  let counted: number | undefined;
  if (requests && requests.min > 0) {
    const c = requests.canary;
    const n = countOf(c);
    if (c.kind === 'error' || n === null) return { verdict: 'error', value: measured, baselineValue, message: `${name}: request count query failed: ${c.kind === 'error' ? c.message : 'no count'}` };
    if (n === 0) return { verdict: 'noData', value: null, baselineValue, message: `${name}: no data: no requests reached the canary ${within(requests.window)}` };
    if (n < requests.min) {
      return { verdict: 'inconclusive', value: measured, baselineValue, message: `${name}${measured === null ? '' : ` ${fmt(measured, metric)}`}, ${tooFewRequests(n, requests.min, requests.window)}` };
    }
    counted = n;
    if (baseline !== undefined && requests.baseline !== undefined) {
      const b = requests.baseline;
      const bn = countOf(b);
      if (b.kind === 'error' || bn === null) baselineNote = `baseline not compared: its request count query failed${b.kind === 'error' ? `: ${b.message}` : ''}`;
      else if (bn < requests.min) baselineNote = `baseline not compared: too few requests, ${bn} ${within(requests.window)}, needs ${requests.min}`;
    }
  }
  if (measured === null) {
    // With a count, requests did arrive: the metric itself is missing (e.g. no latency histogram).
    const why = counted === undefined ? 'no requests reached it yet?' : `${counted} requests ${within(requests?.window)}, but the query returned no value`;
    return { verdict: 'noData', value: null, baselineValue, message: `${name}: no data for the canary (${why})` };
  }
  const v = measured;
  const meets = cmp === 'min' ? v >= threshold : v <= threshold;
  const sym = cmp === 'min' ? (meets ? '≥' : '<') : meets ? '≤' : '>';
  let message = `${name} ${fmt(v, metric)} ${sym} ${fmt(threshold, metric)}`;
  if (baseline !== undefined) {
    if (baselineNote) return { verdict: meets ? 'pass' : 'fail', value: v, baselineValue, message: `${message} (${baselineNote})` };
    if (baseline.kind !== 'value' || !Number.isFinite(baseline.value)) {
      if (!meets) return { verdict: 'fail', value: v, baselineValue, message: `${message} (baseline: no data)` };
      return { verdict: 'pass', value: v, baselineValue, message: `${message} (baseline: no data)` };
    }
    const asGood = cmp === 'min' ? v >= baseline.value : v <= baseline.value;
    message += ` (baseline ${fmt(baseline.value, metric)})`;
    return { verdict: meets || asGood ? 'pass' : 'fail', value: v, baselineValue, message };
  }
  return { verdict: meets ? 'pass' : 'fail', value: v, baselineValue, message };
}

/**
 * A check's overall verdict: any fail fails; else any error/noData is that; else any inconclusive (too few
 * requests) is that; else pass. An inconclusive check is neither a pass nor a failure.
 */
export function checkVerdict(ms: Pick<Measurement, 'verdict'>[]): Verdict {
  if (ms.some((m) => m.verdict === 'fail')) return 'fail';
  if (ms.some((m) => m.verdict === 'error')) return 'error';
  if (ms.some((m) => m.verdict === 'noData')) return 'noData';
  if (ms.some((m) => m.verdict === 'inconclusive')) return 'inconclusive';
  return 'pass';
}

/**
 * One sentence for an inconclusive check (its measurements share one count): "too few requests to judge:
 * 42 in the last 1m, needs 100 (measured: success rate 98.3%, latency p50 40 ms)".
 */
export function inconclusiveSummary(ms: Pick<Measurement, 'verdict' | 'metric' | 'value' | 'requests' | 'message'>[]): string {
  const inc = ms.filter((m) => m.verdict === 'inconclusive');
  const r = inc.find((m) => m.requests)?.requests;
  if (!r || r.canary === null) return inc.map((m) => m.message).join('; ');
  const values = inc.filter((m) => m.value !== null).map((m) => `${LABELS[m.metric]} ${fmt(m.value!, m.metric)}`);
  return `${tooFewRequests(r.canary, r.min, r.window)}${values.length ? ` (measured: ${values.join(', ')})` : ''}`;
}

/** Next time the cron schedule fires strictly after `after` (ms). Throws on an invalid expression. */
export function nextCheckAt(schedule: string, after: number): number {
  // `H` (a hashed value) is seeded with the schedule itself: without a seed cron-parser draws it at random
  // on every call and the next check would jump around; the validator seeds it the same way.
  const it = CronExpressionParser.parse(schedule, { currentDate: new Date(after), tz: 'UTC', hashSeed: schedule });
  return it.next().getTime();
}

/** Parses a Prometheus instant-query response into a Sample (vector with one sample, or scalar). */
export function sampleFromPrometheus(body: unknown): Sample {
  const b = body as { status?: string; error?: string; data?: { resultType?: string; result?: unknown } };
  if (!b || typeof b !== 'object') return { kind: 'error', message: 'Prometheus answered something that is not JSON' };
  if (b.status !== 'success') return { kind: 'error', message: b.error ?? `Prometheus status ${String(b.status)}` };
  const d = b.data;
  if (!d) return { kind: 'error', message: 'Prometheus answer has no data' };
  if (d.resultType === 'scalar' && Array.isArray(d.result)) return finite(Number(d.result[1]));
  if (d.resultType === 'vector' && Array.isArray(d.result)) {
    if (d.result.length === 0) return { kind: 'noData' };
    const first = d.result[0] as { value?: [number, string] };
    return finite(Number(first.value?.[1]));
  }
  return { kind: 'error', message: `unexpected result type ${String(d.resultType)}` };
}

function finite(v: number): Sample {
  // NaN comes from 0/0 (no requests in the window): that is "no data", not a value.
  return Number.isFinite(v) ? { kind: 'value', value: v } : { kind: 'noData' };
}
