// Analysis (pure parts): the PromQL sent per metric and version, the verdict of a measured value against
// its threshold (and against the baseline when there is one), the human message, and the cron schedule.
import { CronExpressionParser } from 'cron-parser';
import type { Analysis } from '../deployfile/model';
import type { Measurement, Verdict } from './snapshot';

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
 */
export function judge(
  metric: MetricName,
  threshold: number,
  canary: Sample,
  baseline?: Sample,
): { verdict: Verdict; value: number | null; baselineValue?: number | null; message: string } {
  const name = LABELS[metric];
  const cmp = comparatorOf(metric);
  const baselineValue = baseline === undefined ? undefined : baseline.kind === 'value' ? baseline.value : null;
  if (canary.kind === 'error') return { verdict: 'error', value: null, baselineValue, message: `${name}: query failed: ${canary.message}` };
  if (canary.kind === 'noData' || !Number.isFinite(canary.value)) {
    return { verdict: 'noData', value: null, baselineValue, message: `${name}: no data for the canary (no requests reached it yet?)` };
  }
  const v = canary.value;
  const meets = cmp === 'min' ? v >= threshold : v <= threshold;
  const sym = cmp === 'min' ? (meets ? '≥' : '<') : meets ? '≤' : '>';
  let message = `${name} ${fmt(v, metric)} ${sym} ${fmt(threshold, metric)}`;
  if (baseline !== undefined) {
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

/** A check's overall verdict: any fail fails; else any error/noData is that; else pass. */
export function checkVerdict(ms: Pick<Measurement, 'verdict'>[]): Verdict {
  if (ms.some((m) => m.verdict === 'fail')) return 'fail';
  if (ms.some((m) => m.verdict === 'error')) return 'error';
  if (ms.some((m) => m.verdict === 'noData')) return 'noData';
  return 'pass';
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
