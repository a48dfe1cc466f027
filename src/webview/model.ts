// The dashboard's view model: pure functions from a RolloutSnapshot to what each section shows (texts,
// tones, enabled states, chart columns). The DOM layer (render.ts) only places these on the page, so the
// decisions — labels, "no data", why a button is disabled, what the chart summary says — are tested in
// Node without a browser.
import type {
  Measurement,
  RolloutAction,
  RolloutPhase,
  RolloutSnapshot,
  StageStatus,
  TestRun,
  TimelinePoint,
  Weights,
} from '../engine/snapshot';

export type Tone = 'ok' | 'warn' | 'error' | 'info' | 'idle';

export const PHASE_LABEL: Record<RolloutPhase, string> = {
  idle: 'Idle',
  progressing: 'Progressing',
  waiting: 'Waiting',
  paused: 'Paused',
  succeeded: 'Succeeded',
  failed: 'Failed',
  rolledBack: 'Rolled back',
  aborted: 'Aborted',
};

export function phaseTone(phase: RolloutPhase): Tone {
  switch (phase) {
    case 'succeeded':
      return 'ok';
    case 'failed':
    case 'rolledBack':
      return 'error';
    case 'waiting':
    case 'paused':
    case 'aborted':
      return 'warn';
    case 'progressing':
      return 'info';
    default:
      return 'idle';
  }
}

const STRATEGY_LABEL = { simple: 'Simple (rolling)', canary: 'Canary', blueGreen: 'Blue-green' } as const;

/** Names of the three weight slots for this strategy: blue-green shows colours, canary shows roles. */
export interface WeightLabels { current: string; baseline: string; canary: string }

export function weightLabels(snap: Pick<RolloutSnapshot, 'strategy' | 'versions' | 'toImage'>): WeightLabels {
  if (snap.strategy !== 'blueGreen') return { current: 'stable', baseline: 'baseline', canary: 'canary' };
  // The new colour runs the new image; the other colour is the one serving before the switch.
  const colours = snap.versions.filter((v) => v.role === 'blue' || v.role === 'green');
  const fresh = colours.find((v) => snap.toImage !== undefined && v.image === snap.toImage) ?? colours.find((v) => !v.active);
  const old = colours.find((v) => v !== fresh);
  return {
    current: old ? `${old.role} (current)` : 'current',
    baseline: 'baseline',
    canary: fresh ? `${fresh.role} (new)` : 'new',
  };
}

/** Short tag of an image reference: the part after the last ':' (or '@sha256:…' shortened). */
export function imageTag(image: string | undefined): string {
  if (!image) return '—';
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1, at + 1 + 19);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

export interface HeaderModel {
  title: string;
  environment: string;
  where: string;
  strategy: string;
  fromImage: string;
  toImage: string;
  status: string;
  tone: Tone;
  reason: string;
  stage: string;
  driver?: string;
  error?: string;
}

export function headerModel(s: RolloutSnapshot): HeaderModel {
  return {
    title: s.pipeline,
    environment: s.environment,
    where: `${s.context} · ${s.namespace}`,
    strategy: s.router && s.strategy !== 'simple' ? `${STRATEGY_LABEL[s.strategy]} · ${s.router}` : STRATEGY_LABEL[s.strategy],
    fromImage: s.fromImage ?? '—',
    toImage: s.toImage ?? '—',
    status: PHASE_LABEL[s.phase],
    tone: phaseTone(s.phase),
    reason: s.reason,
    stage: s.stage.count > 0 ? `stage ${Math.min(s.stage.index + 1, s.stage.count)} of ${s.stage.count}` : 'no stages',
    driver: s.driver ? (s.driver.self ? 'driven by this window' : `driven by ${s.driver.holder}`) : undefined,
    error: s.error ? `${s.error.kind === 'unreachable' ? 'Cluster unreachable' : s.error.kind === 'forbidden' ? 'Forbidden' : 'Error'}: ${s.error.message} (showing the last known state)` : undefined,
  };
}

export function formatWeights(w: Weights, labels: WeightLabels, withBaseline: boolean): string {
  const parts = [`${labels.canary} ${w.canary}%`];
  if (withBaseline) parts.push(`${labels.baseline} ${w.baseline}%`);
  parts.push(`${labels.current} ${w.current}%`);
  return parts.join(' · ');
}

/** Baseline appears only when some stage or point gives it traffic. */
export function hasBaseline(s: Pick<RolloutSnapshot, 'stages' | 'weights'>): boolean {
  return s.weights.requested.baseline > 0 || s.weights.actual.baseline > 0 || s.stages.some((st) => st.weights.baseline > 0);
}

// ---------------------------------------------------------------- actions

export const ACTION_BUTTONS: { action: Exclude<RolloutAction, 'start'>; label: string; kind: 'primary' | 'secondary' | 'danger' }[] = [
  { action: 'promote', label: 'Promote', kind: 'primary' },
  { action: 'promoteFull', label: 'Promote fully', kind: 'secondary' },
  { action: 'pause', label: 'Pause', kind: 'secondary' },
  { action: 'resume', label: 'Resume', kind: 'secondary' },
  { action: 'retry', label: 'Retry', kind: 'secondary' },
  { action: 'abort', label: 'Abort', kind: 'danger' },
];

export interface ActionModel {
  action: Exclude<RolloutAction, 'start'>;
  label: string;
  kind: 'primary' | 'secondary' | 'danger';
  enabled: boolean;
  /** Tooltip and visible hint: what it does, or why it is disabled. */
  title: string;
}

const ACTION_HELP: Record<Exclude<RolloutAction, 'start'>, string> = {
  promote: 'Advance to the next stage',
  promoteFull: 'Skip the remaining stages and promote the new version now',
  pause: 'Stop advancing; traffic stays where it is',
  resume: 'Continue from where the rollout was paused',
  retry: 'Start the failed or aborted run again',
  abort: 'Send all traffic back to the stable version and stop',
};

export function actionModels(s: RolloutSnapshot, protectedEnv: boolean, pending: ReadonlySet<RolloutAction> = new Set()): ActionModel[] {
  return ACTION_BUTTONS.map((b) => {
    const a = s.actions[b.action];
    const allowed = !!a?.allowed;
    const busy = pending.has(b.action);
    let title = allowed ? ACTION_HELP[b.action] : `Not available: ${a?.reason ?? 'the engine does not offer it now'}`;
    if (allowed && protectedEnv) title += ` (protected environment: you will be asked to type "${s.environment}")`;
    if (busy) title = `${b.label}: waiting for the engine…`;
    return { ...b, enabled: allowed && !busy, title };
  });
}

// ---------------------------------------------------------------- stages

export interface StageModel {
  index: number;
  label: string;
  state: StageStatus['state'];
  detail: string;
  current: boolean;
}

const GATE_LABEL: Record<string, string> = {
  manual: 'manual promotion',
  analysis: 'analysis',
  tests: 'tests',
  pause: 'pause',
  noData: 'analysis undecided (no data or too few requests)',
  rolloutStatus: 'rollout status',
  scaleDownDelay: 'scale-down delay',
  after: 'previous environment',
};

export function stageModels(s: RolloutSnapshot): StageModel[] {
  const labels = weightLabels(s);
  const base = hasBaseline(s);
  return s.stages.map((st) => {
    const parts = [formatWeights(st.weights, labels, base), st.mode === 'manual' ? 'manual' : 'auto'];
    if (st.gate) parts.push(`gate: ${GATE_LABEL[st.gate] ?? st.gate}`);
    return {
      index: st.index,
      label: `Stage ${st.index + 1}`,
      state: st.state,
      detail: parts.join(' · '),
      current: st.state === 'current',
    };
  });
}

// ---------------------------------------------------------------- analysis checks

const METRIC_LABEL: Record<Measurement['metric'], string> = {
  successRate: 'success rate',
  latencyP50Ms: 'latency p50',
  latencyP99Ms: 'latency p99',
};

export function metricLabel(m: Measurement['metric']): string {
  return METRIC_LABEL[m];
}

export function formatMetricValue(metric: Measurement['metric'], v: number | null | undefined): string {
  if (v === null || v === undefined) return 'no data';
  return metric === 'successRate' ? `${round(v, 2)}%` : `${round(v, 1)} ms`;
}

function round(v: number, digits: number): string {
  const f = 10 ** digits;
  return String(Math.round(v * f) / f);
}

export interface CheckRow {
  id: string;
  stage: string;
  check: string;
  metric: string;
  verdict: Measurement['verdict'];
  verdictLabel: string;
  value: string;
  baseline: string;
  threshold: string;
  query: string;
  message: string;
  at: string;
}

const VERDICT_LABEL: Record<Measurement['verdict'], string> = { pass: 'pass', fail: 'FAIL', noData: 'no data', error: 'error', inconclusive: 'too few requests' };

export function checkRow(m: Measurement): CheckRow {
  return {
    id: `${m.stage}:${m.check}:${m.metric}:${m.at}`,
    stage: String(m.stage + 1),
    check: String(m.check),
    metric: metricLabel(m.metric),
    verdict: m.verdict,
    // An inconclusive check says how short of the minimum it was.
    verdictLabel: m.verdict === 'inconclusive' && typeof m.requests?.canary === 'number' ? `too few requests (${m.requests.canary} of ${m.requests.min})` : VERDICT_LABEL[m.verdict],
    value: formatMetricValue(m.metric, m.value),
    baseline: m.baselineValue === undefined ? '—' : formatMetricValue(m.metric, m.baselineValue),
    threshold: `${m.comparator === 'min' ? '≥' : '≤'} ${formatMetricValue(m.metric, m.threshold)}`,
    query: m.query,
    message: m.message,
    at: m.at,
  };
}

/** One analysis chart per metric: canary and baseline values over time, and the threshold line. */
export interface MetricSeries {
  metric: Measurement['metric'];
  label: string;
  unit: string;
  x: number[];
  canary: (number | null)[];
  baseline: (number | null)[];
  threshold: number[];
  hasBaseline: boolean;
}

export function metricSeries(analysis: readonly Measurement[]): MetricSeries[] {
  const by = new Map<Measurement['metric'], MetricSeries>();
  for (const m of analysis) {
    let s = by.get(m.metric);
    if (!s) {
      s = { metric: m.metric, label: metricLabel(m.metric), unit: m.metric === 'successRate' ? '%' : 'ms', x: [], canary: [], baseline: [], threshold: [], hasBaseline: false };
      by.set(m.metric, s);
    }
    const t = toSeconds(m.at);
    if (!Number.isFinite(t)) continue;
    s.x.push(t);
    s.canary.push(m.value);
    s.baseline.push(m.baselineValue ?? null);
    if (m.baselineValue !== undefined) s.hasBaseline = true;
    s.threshold.push(m.threshold);
  }
  const order: Measurement['metric'][] = ['successRate', 'latencyP50Ms', 'latencyP99Ms'];
  return order.filter((k) => by.has(k)).map((k) => sortSeries(by.get(k)!));
}

function sortSeries(s: MetricSeries): MetricSeries {
  // uPlot needs ascending x; measurements normally arrive in order, so only sort when they did not.
  let sorted = true;
  for (let i = 1; i < s.x.length; i++) if (s.x[i] < s.x[i - 1]) sorted = false;
  if (sorted) return s;
  const idx = s.x.map((_, i) => i).sort((a, b) => s.x[a] - s.x[b]);
  return { ...s, x: idx.map((i) => s.x[i]), canary: idx.map((i) => s.canary[i]), baseline: idx.map((i) => s.baseline[i]), threshold: idx.map((i) => s.threshold[i]) };
}

// ---------------------------------------------------------------- tests

export interface TestRowModel {
  name: string;
  stage: string;
  status: TestRun['status'];
  statusLabel: string;
  tone: Tone;
  duration: string;
  message: string;
  log?: string;
}

const TEST_LABEL: Record<TestRun['status'], [string, Tone]> = {
  pending: ['pending', 'idle'],
  running: ['running', 'info'],
  passed: ['passed', 'ok'],
  failed: ['failed', 'error'],
  timedOut: ['timed out', 'error'],
};

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${round(s, 1)} s`;
  const m = Math.floor(s / 60);
  const rest = Math.round(s - m * 60);
  if (m < 60) return `${m} min ${rest} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function testRows(tests: readonly TestRun[]): TestRowModel[] {
  return tests.map((t) => {
    const [statusLabel, tone] = TEST_LABEL[t.status];
    return {
      name: t.name,
      stage: t.stage < 0 ? 'pre-switch' : String(t.stage + 1),
      status: t.status,
      statusLabel,
      tone,
      duration: formatDuration(t.durationMs),
      message: t.message ?? '',
      log: t.logExcerpt || undefined,
    };
  });
}

// ---------------------------------------------------------------- traffic chart

export function toSeconds(iso: string): number {
  return Date.parse(iso) / 1000;
}

/** Raw columns of every timeline point (cumulative stacks), kept so the display can be rebuilt. */
export interface RawColumns {
  x: number[];
  aCanary: number[];
  aBase: number[];
  aTotal: number[];
  rCanary: number[];
  rBase: number[];
}

/**
 * Columnar data for the traffic chart. Stacked areas: each series holds the cumulative sum, canary at
 * the bottom, then baseline, then stable; requested canary and canary+baseline are lines over them.
 *
 * A six-hour run has ~20,000 points but the chart is ~1,000 pixels wide: drawing every point makes each
 * update cost grow with the run's age. The display arrays (x, aCanary, …) therefore hold at most four
 * points per time bucket — first, lowest canary, highest canary, last — with the bucket width doubling
 * whenever the span outgrows DISPLAY_BUCKETS buckets. Appending a point touches only the last bucket
 * (O(1)); the rare doubling rebuilds from the raw columns (amortised O(1) per point). The display arrays
 * keep their identity (truncated and pushed in place), so uPlot's setData gets the same arrays, longer.
 */
export interface TrafficColumns extends RawColumns {
  raw: RawColumns;
  /** Seconds per bucket (a power of two). */
  bucket: number;
  /** Display index where the last bucket's points start, its id, and its raw range/extremes. */
  tailStart: number;
  tailId: number;
  tailFrom: number;
  tailMin: number;
  tailMax: number;
  /** x of the first point of each stage after the first: the stage boundaries. */
  boundaries: { x: number; stage: number }[];
  lastStage: number;
  /** Whether the display ends with the synthetic "now" point (see extendToNow). */
  hasNow: boolean;
}

export const DISPLAY_BUCKETS = 600;

function rawColumns(): RawColumns {
  return { x: [], aCanary: [], aBase: [], aTotal: [], rCanary: [], rBase: [] };
}

export function emptyColumns(): TrafficColumns {
  return { ...rawColumns(), raw: rawColumns(), bucket: 1, tailStart: 0, tailId: -1, tailFrom: 0, tailMin: 0, tailMax: 0, boundaries: [], lastStage: -1, hasNow: false };
}

const SERIES = ['x', 'aCanary', 'aBase', 'aTotal', 'rCanary', 'rBase'] as const;

/** Appends points; out-of-order points (clock skew) are clamped so x stays ascending. */
export function appendPoints(cols: TrafficColumns, points: readonly TimelinePoint[]): void {
  dropNow(cols);
  const raw = cols.raw;
  const from = raw.x.length;
  for (const p of points) {
    let x = toSeconds(p.at);
    if (!Number.isFinite(x)) continue;
    const last = raw.x.length ? raw.x[raw.x.length - 1] : -Infinity;
    if (x < last) x = last;
    raw.x.push(x);
    raw.aCanary.push(p.actual.canary);
    raw.aBase.push(p.actual.canary + p.actual.baseline);
    raw.aTotal.push(p.actual.canary + p.actual.baseline + p.actual.current);
    raw.rCanary.push(p.requested.canary);
    raw.rBase.push(p.requested.canary + p.requested.baseline);
    if (p.stage !== cols.lastStage) {
      if (cols.lastStage >= 0) cols.boundaries.push({ x, stage: p.stage });
      cols.lastStage = p.stage;
    }
  }
  const n = raw.x.length;
  if (n === 0) return;
  const span = raw.x[n - 1] - raw.x[0];
  let bucket = cols.bucket;
  while (span / bucket > DISPLAY_BUCKETS) bucket *= 2;
  if (bucket !== cols.bucket || from === 0) {
    if (from === 0) {
      // First fill: the smallest power-of-two bucket that fits (fine detail for short runs).
      bucket = 1;
      while (span / bucket > DISPLAY_BUCKETS) bucket *= 2;
      while (bucket > 1 / 64 && span / (bucket / 2) <= DISPLAY_BUCKETS && span > 0) bucket /= 2;
    }
    cols.bucket = bucket;
    rebuildDisplay(cols);
    return;
  }
  for (let i = from; i < n; i++) addToDisplay(cols, i);
}

function dropNow(cols: TrafficColumns): void {
  if (!cols.hasNow) return;
  for (const k of SERIES) cols[k].pop();
  cols.hasNow = false;
}

/**
 * The engine records a timeline entry when weights change, so the last entry can be minutes old: a
 * stepped chart would end there and the current stage would have no width. The display therefore ends
 * with a copy of the last point at the snapshot's time (replaced on every update, never in `raw`).
 */
export function extendToNow(cols: TrafficColumns, nowSeconds: number): void {
  dropNow(cols);
  const n = cols.x.length;
  if (!n || !Number.isFinite(nowSeconds) || nowSeconds <= cols.x[n - 1]) return;
  for (const k of SERIES) cols[k].push(k === 'x' ? nowSeconds : cols[k][n - 1]);
  cols.hasNow = true;
}

function rebuildDisplay(cols: TrafficColumns): void {
  for (const k of SERIES) cols[k].length = 0;
  cols.tailId = -1;
  cols.tailStart = 0;
  for (let i = 0; i < cols.raw.x.length; i++) addToDisplay(cols, i);
}

function addToDisplay(cols: TrafficColumns, i: number): void {
  const raw = cols.raw;
  const id = Math.floor((raw.x[i] - raw.x[0]) / cols.bucket);
  if (id !== cols.tailId) {
    cols.tailId = id;
    cols.tailFrom = i;
    cols.tailMin = i;
    cols.tailMax = i;
    cols.tailStart = cols.x.length;
  } else {
    if (raw.aCanary[i] < raw.aCanary[cols.tailMin]) cols.tailMin = i;
    if (raw.aCanary[i] > raw.aCanary[cols.tailMax]) cols.tailMax = i;
  }
  // Re-emit the last bucket: its first, extreme and last points, in time order, without repeats.
  for (const k of SERIES) cols[k].length = cols.tailStart;
  const picks = [cols.tailFrom, cols.tailMin, cols.tailMax, i].sort((a, b) => a - b);
  let prev = -1;
  for (const j of picks) {
    if (j === prev) continue;
    prev = j;
    for (const k of SERIES) cols[k].push(raw[k][j]);
  }
}

export function columnsFrom(points: readonly TimelinePoint[]): TrafficColumns {
  const c = emptyColumns();
  appendPoints(c, points);
  return c;
}

/** Gate markers on the traffic chart: where the run waited, and for what. */
export interface GateMarker { x: number; label: string; current: boolean }

export function gateMarkers(s: RolloutSnapshot): GateMarker[] {
  const out: GateMarker[] = [];
  for (const st of s.stages) {
    if (!st.gate || st.state === 'current' || st.state === 'pending' || !st.finishedAt) continue;
    const x = toSeconds(st.finishedAt);
    if (Number.isFinite(x)) out.push({ x, label: `${GATE_LABEL[st.gate] ?? st.gate} passed`, current: false });
  }
  if (s.gate) {
    const x = toSeconds(s.gate.since);
    if (Number.isFinite(x)) out.push({ x, label: `waiting: ${GATE_LABEL[s.gate.kind] ?? s.gate.kind}`, current: true });
  }
  return out;
}

/** The accessible text equivalent of the traffic chart (read by screen readers through aria-live). */
export function chartSummary(s: RolloutSnapshot, pointCount = s.timeline.length): string {
  const labels = weightLabels(s);
  const base = hasBaseline(s);
  const { requested, actual } = s.weights;
  const parts: string[] = [];
  parts.push(`Traffic now: ${formatWeights(actual, labels, base)}.`);
  if (!deepEqualWeights(requested, actual)) parts.push(`Requested: ${formatWeights(requested, labels, base)}.`);
  if (s.stage.count > 0) parts.push(`Stage ${Math.min(s.stage.index + 1, s.stage.count)} of ${s.stage.count}.`);
  if (s.gate) parts.push(`Waiting for ${GATE_LABEL[s.gate.kind] ?? s.gate.kind}: ${s.gate.message}.`);
  if (pointCount > 0) {
    const first = s.timeline[0] ? toSeconds(s.timeline[0].at) : NaN;
    const last = s.timeline[s.timeline.length - 1] ? toSeconds(s.timeline[s.timeline.length - 1].at) : NaN;
    const span = Number.isFinite(first) && Number.isFinite(last) ? ` over ${formatDuration((last - first) * 1000)}` : '';
    parts.push(`${pointCount} points${span}.`);
  } else {
    parts.push('No traffic history yet.');
  }
  return parts.join(' ');
}

function deepEqualWeights(a: Weights, b: Weights): boolean {
  return a.canary === b.canary && a.baseline === b.baseline && a.current === b.current;
}
