// Snapshot builders for the dashboard tests and the benchmark: a canary run with a timeline of N points,
// measurements, tests and events, shaped like the engine's output.
import type { Pipeline } from '../../../src/deployfile/model';
import type { Measurement, RolloutAction, RolloutSnapshot, TimelinePoint, Weights } from '../../../src/engine/snapshot';

const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };

export const STAGE_WEIGHTS: Weights[] = [
  { canary: 10, baseline: 10, current: 80 },
  { canary: 50, baseline: 10, current: 40 },
  { canary: 100, baseline: 0, current: 0 },
];

export function allActions(allowed: Partial<Record<RolloutAction, boolean>> = {}): RolloutSnapshot['actions'] {
  const out = {} as RolloutSnapshot['actions'];
  for (const a of ['start', 'promote', 'promoteFull', 'abort', 'pause', 'resume', 'retry'] as RolloutAction[]) {
    out[a] = allowed[a] ? { allowed: true } : { allowed: false, reason: `${a} is not possible in this state` };
  }
  return out;
}

export const T0 = Date.parse('2026-11-26T04:00:00Z');

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Timeline of `n` points one second apart, spread over the stages up to `stageIndex`. */
export function timeline(n: number, stageIndex = 1, startMs = T0, stepMs = 1000): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  for (let i = 0; i < n; i++) {
    const stage = Math.min(stageIndex, Math.floor((i * (stageIndex + 1)) / Math.max(1, n)));
    const w = STAGE_WEIGHTS[stage];
    // The replicas router rounds to whole pods: actual lags and differs slightly from requested.
    const actualCanary = Math.max(0, w.canary - (i % 7 === 0 ? 2 : 0));
    out.push({ at: iso(startMs + i * stepMs), stage, requested: { ...w }, actual: { canary: actualCanary, baseline: w.baseline, current: 100 - actualCanary - w.baseline } });
  }
  return out;
}

export function measurement(stage: number, check: number, metric: Measurement['metric'], value: number | null, at: string, baselineValue?: number | null): Measurement {
  const successRate = metric === 'successRate';
  const threshold = successRate ? 99 : 250;
  const comparator = successRate ? 'min' : 'max';
  const verdict = value === null ? 'noData' : (successRate ? value >= threshold : value <= threshold) ? 'pass' : 'fail';
  const unit = successRate ? '%' : ' ms';
  return {
    stage,
    check,
    metric,
    query: successRate ? `sum(rate(http_requests_total{version="canary",code!~"5.."}[1m])) / sum(rate(http_requests_total{version="canary"}[1m])) * 100` : `histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket{version="canary"}[1m]))) * 1000`,
    value,
    baselineValue,
    threshold,
    comparator,
    verdict,
    message: value === null ? 'no samples returned (no traffic?)' : `${successRate ? 'success rate' : 'latency p50'} ${value}${unit} ${verdict === 'pass' ? (successRate ? '>=' : '<=') : successRate ? '<' : '>'} ${threshold}${unit}`,
    at,
  };
}

export interface CanaryOptions {
  points?: number;
  stageIndex?: number;
  seq?: number;
  protectedEnv?: boolean;
  failing?: boolean;
  runId?: string;
}

export function canarySnapshot(o: CanaryOptions = {}): RolloutSnapshot {
  const stageIndex = o.stageIndex ?? 1;
  const tl = timeline(o.points ?? 120, stageIndex);
  const last = tl[tl.length - 1];
  const lastMs = last ? Date.parse(last.at) : T0;
  const analysis: Measurement[] = [
    measurement(0, 1, 'successRate', 99.8, iso(T0 + 60_000), 99.9),
    measurement(0, 1, 'latencyP50Ms', 120, iso(T0 + 60_000), 118),
    measurement(0, 2, 'successRate', o.failing ? 91.2 : null, iso(T0 + 120_000), 99.9),
  ];
  const w = STAGE_WEIGHTS[stageIndex];
  return {
    pipeline: 'checkout',
    environment: o.protectedEnv ? 'production' : 'staging',
    context: 'sandbox',
    namespace: 'checkout-staging',
    strategy: 'canary',
    router: 'replicas',
    seq: o.seq ?? 1,
    runId: o.runId ?? 'run-1',
    phase: o.failing ? 'rolledBack' : 'waiting',
    reason: o.failing ? 'rolled back: success rate 91.2% < 99%' : `stage ${stageIndex + 1}/3 · canary ${w.canary}% · waiting for promotion`,
    startedAt: iso(T0),
    updatedAt: iso(lastMs),
    fromImage: 'registry.example.com/checkout:1.7.0',
    toImage: 'registry.example.com/checkout:1.8.0',
    stage: { index: stageIndex, count: 3 },
    stages: STAGE_WEIGHTS.map((weights, index) => ({
      index,
      mode: index === 0 ? 'auto' : 'manual',
      weights,
      state: index < stageIndex ? 'done' : index === stageIndex ? 'current' : 'pending',
      gate: index === 0 ? 'analysis' : 'manual',
      startedAt: index <= stageIndex ? iso(T0 + index * 60_000) : undefined,
      finishedAt: index < stageIndex ? iso(T0 + (index + 1) * 60_000) : undefined,
    })),
    weights: { requested: { ...w }, actual: { ...w } },
    versions: [
      { role: 'stable', deployment: 'checkout', image: 'registry.example.com/checkout:1.7.0', desired: 8, ready: 8, updated: 8, available: 8 },
      { role: 'canary', deployment: 'checkout-canary', image: 'registry.example.com/checkout:1.8.0', desired: 1, ready: 1, updated: 1, available: 1 },
      { role: 'baseline', deployment: 'checkout-baseline', image: 'registry.example.com/checkout:1.7.0', desired: 1, ready: 1, updated: 1, available: 1 },
    ],
    gate: o.failing ? undefined : { kind: 'manual', since: iso(lastMs - 30_000), message: 'waiting for promotion' },
    analysis,
    tests: [
      { name: 'smoke', stage: 0, status: 'passed', job: 'checkout-smoke-1', durationMs: 4200, startedAt: iso(T0 + 5000), finishedAt: iso(T0 + 9200), logExcerpt: 'HTTP/1.1 200 OK\n{"status":"ok"}' },
      { name: 'load', stage: 1, status: o.failing ? 'failed' : 'running', job: 'checkout-load-2', message: o.failing ? 'exit code 1' : undefined, logExcerpt: o.failing ? 'error: 12 of 200 requests failed' : undefined },
    ],
    timeline: tl,
    events: [
      { at: iso(T0), type: 'Normal', reason: 'RolloutStarted', message: 'canary 1.7.0 → 1.8.0 started by vscode:alice' },
      { at: iso(T0 + 60_000), type: 'Normal', reason: 'StageAdvanced', message: 'stage 2 of 3' },
    ],
    actions: allActions(o.failing ? { retry: true } : { promote: true, promoteFull: true, abort: true, pause: true }),
    driver: { holder: 'vscode:alice@laptop', renewedAt: iso(lastMs), expiresAt: iso(lastMs + 15_000), self: true },
    history: [{ runId: 'run-0', image: 'registry.example.com/checkout:1.7.0', fromImage: 'registry.example.com/checkout:1.6.2', phase: 'succeeded', reason: 'promoted', startedAt: iso(T0 - 86_400_000), finishedAt: iso(T0 - 86_000_000) }],
  };
}

/** The next snapshot of a run: one more timeline point, maybe a new event; the engine's usual step. */
export function nextSnapshot(s: RolloutSnapshot, extra: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
  const last = s.timeline[s.timeline.length - 1];
  const at = iso((last ? Date.parse(last.at) : T0) + 1000);
  const point: TimelinePoint = { at, stage: s.stage.index, requested: { ...s.weights.requested }, actual: { ...s.weights.actual } };
  return { ...s, seq: s.seq + 1, updatedAt: at, timeline: [...s.timeline, point], ...extra };
}

export function pipelineFor(env: string, protectedEnv: boolean): Pipeline {
  return {
    name: 'checkout',
    app: { deployment: 'checkout', container: 'web', service: 'checkout', port: 80 },
    image: 'registry.example.com/checkout:1.8.0',
    manifests: [],
    environments: [{ name: env, context: 'sandbox', namespace: 'checkout-staging', protected: protectedEnv, range }],
    strategy: { type: 'canary', traffic: { router: 'replicas' }, baseline: true, stages: [], range },
    tests: {},
    metrics: {},
    file: '/ws/checkout.deploy.yaml',
    documentIndex: 0,
    range,
  };
}
