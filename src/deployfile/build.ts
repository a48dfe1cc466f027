// A valid document's plain value → the typed Pipeline with every default filled in (the schema's
// `default`s; a unit test checks the two agree), durations in ms and source ranges attached.
import path from 'node:path';
import type {
  Analysis, AppRef, BlueGreenStrategy, CanaryStage, CanaryStrategy, Environment, MetricsSource, Pipeline, Range,
  SimpleStrategy, Strategy, TestSpec, TrafficRouter,
} from './model';
import type { RawDocument } from './yamlDoc';
import { keyRangeAt, valueRangeAt } from './locate';
import { parseDuration } from './duration';
import { escapeSegment } from './ranges';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : {});
const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d: number): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const bool = (v: unknown, d: boolean): boolean => (typeof v === 'boolean' ? v : d);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
const ms = (v: unknown, d: string): number => parseDuration(typeof v === 'string' ? v : d) ?? parseDuration(d)!;

export const DEFAULTS = {
  port: 80,
  namespace: 'default',
  maxSurge: '25%',
  maxUnavailable: '25%',
  simpleTimeout: '10m',
  router: 'replicas',
  mode: 'manual',
  pause: '0s',
  schedule: '*/1 * * * *',
  checks: 3,
  failureLimit: 0,
  minRequests: 100,
  autoPromoteDelay: '0s',
  scaleDownDelay: '30s',
  previewWeight: 0,
  testTimeout: '5m',
  prometheusService: 'monitoring/prometheus:9090',
} as const;

/** The whole block of a node (for outline ranges), or the key when the node is unknown. */
function blockRange(doc: RawDocument, pointer: string): Range {
  const n = doc.nodes.get(pointer);
  if (!n) return keyRangeAt(doc, pointer);
  return n.key ? { start: n.key.start, end: n.value.end } : n.value;
}

export function buildPipeline(doc: RawDocument, file: string, documentIndex: number): Pipeline {
  const root = obj(doc.value);
  const spec = obj(root.spec);
  const name = str(obj(root.metadata).name, '');
  const appRaw = obj(spec.app);
  const deployment = str(appRaw.deployment, name);
  const app: AppRef = {
    deployment,
    container: str(appRaw.container, deployment),
    service: str(appRaw.service, deployment),
    port: num(appRaw.port, DEFAULTS.port),
  };
  const dir = file ? path.dirname(file) : '';
  const manifests = strs(spec.manifests).map((m) => (dir ? path.resolve(dir, m) : m));
  const environments: Environment[] = (Array.isArray(spec.environments) ? spec.environments : []).map((e, i) => {
    const o = obj(e);
    const env: Environment = {
      name: str(o.name, ''),
      context: str(o.context, ''),
      namespace: str(o.namespace, DEFAULTS.namespace),
      protected: bool(o.protected, false),
      range: blockRange(doc, `/spec/environments/${i}`),
    };
    if (typeof o.after === 'string') env.after = o.after;
    return env;
  });
  const tests: Record<string, TestSpec> = {};
  for (const [testName, t] of Object.entries(obj(spec.tests))) {
    const o = obj(t);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(o.env))) if (typeof v === 'string') env[k] = v;
    tests[testName] = {
      name: testName,
      image: str(o.image, ''),
      command: strs(o.command),
      args: strs(o.args),
      env,
      timeoutMs: ms(o.timeout, DEFAULTS.testTimeout),
      range: blockRange(doc, `/spec/tests/${escapeSegment(testName)}`),
    };
  }
  const metricsRaw = obj(spec.metrics);
  const prom = 'prometheus' in metricsRaw ? obj(metricsRaw.prometheus) : { service: DEFAULTS.prometheusService };
  const metrics: MetricsSource = { prometheus: {} };
  if (typeof prom.url === 'string') metrics.prometheus!.url = prom.url;
  const svc = typeof prom.service === 'string' ? prom.service : prom.url === undefined ? DEFAULTS.prometheusService : undefined;
  if (svc) {
    const m = /^([^/]+)\/([^:]+):(\d+)$/.exec(svc);
    if (m) metrics.prometheus!.service = { namespace: m[1], name: m[2], port: Number(m[3]) };
  }
  return {
    name,
    app,
    image: str(spec.image, ''),
    manifests,
    environments,
    strategy: buildStrategy(doc, obj(spec.strategy), app),
    tests,
    metrics,
    file,
    documentIndex,
    range: doc.nodes.get('')?.value ?? doc.range,
  };
}

function buildStrategy(doc: RawDocument, s: Obj, app: AppRef): Strategy {
  const range = blockRange(doc, '/spec/strategy');
  if (s.type === 'canary') {
    const t = obj(s.traffic);
    const traffic: TrafficRouter = { router: str(t.router, DEFAULTS.router) as TrafficRouter['router'] };
    for (const k of ['virtualService', 'destinationRule', 'httpRoute', 'ingress'] as const) if (typeof t[k] === 'string') traffic[k] = t[k] as string;
    if (typeof t.replicas === 'number') traffic.replicas = t.replicas;
    const stages: CanaryStage[] = (Array.isArray(s.stages) ? s.stages : []).map((st, i) => {
      const o = obj(st);
      const w = obj(o.weights);
      const canary = num(w.canary, 0);
      const baseline = num(w.baseline, 0);
      const p = `/spec/strategy/stages/${i}`;
      const stage: CanaryStage = {
        weights: { canary, baseline, current: num(w.current, 100 - canary - baseline) },
        mode: o.mode === 'auto' ? 'auto' : 'manual',
        tests: strs(o.tests),
        pauseMs: ms(o.pause, DEFAULTS.pause),
        range: blockRange(doc, p),
      };
      if (o.analysis !== undefined) stage.analysis = buildAnalysis(doc, obj(o.analysis), `${p}/analysis`);
      return stage;
    });
    const canary: CanaryStrategy = { type: 'canary', traffic, baseline: bool(s.baseline, false), stages, range };
    return canary;
  }
  if (s.type === 'blueGreen') {
    const bg: BlueGreenStrategy = {
      type: 'blueGreen',
      previewService: str(s.previewService, `${app.service}-preview`),
      tests: strs(s.tests),
      autoPromote: bool(s.autoPromote, false),
      autoPromoteDelayMs: ms(s.autoPromoteDelay, DEFAULTS.autoPromoteDelay),
      scaleDownDelayMs: ms(s.scaleDownDelay, DEFAULTS.scaleDownDelay),
      previewWeight: num(s.previewWeight, DEFAULTS.previewWeight),
      range,
    };
    if (s.analysis !== undefined) bg.analysis = buildAnalysis(doc, obj(s.analysis), '/spec/strategy/analysis');
    return bg;
  }
  const simple: SimpleStrategy = {
    type: 'simple',
    maxSurge: typeof s.maxSurge === 'number' || typeof s.maxSurge === 'string' ? s.maxSurge : DEFAULTS.maxSurge,
    maxUnavailable: typeof s.maxUnavailable === 'number' || typeof s.maxUnavailable === 'string' ? s.maxUnavailable : DEFAULTS.maxUnavailable,
    timeoutMs: ms(s.timeout, DEFAULTS.simpleTimeout),
    tests: strs(s.tests),
    range,
  };
  return simple;
}

/**
 * The minimum sample size when the file does not set one. The default request count selects Kube
 * Delivery's own pod labels on `http_requests_total`; custom metric queries often read other metrics or
 * labels, where that count would be empty (every check "no data"). So with a metric query replaced and
 * no `queries.requests`, the minimum stays off unless asked for (rule KD123 says so in the editor).
 */
export function minRequestsDefault(a: Pick<Analysis, 'queries'>): number {
  const q = a.queries ?? {};
  const customMetric = q.successRate !== undefined || q.latencyP50Ms !== undefined || q.latencyP99Ms !== undefined;
  return customMetric && q.requests === undefined ? 0 : DEFAULTS.minRequests;
}

function buildAnalysis(doc: RawDocument, a: Obj, p: string): Analysis {
  const analysis: Analysis = {
    schedule: str(a.schedule, DEFAULTS.schedule),
    checks: num(a.checks, DEFAULTS.checks),
    failureLimit: num(a.failureLimit, DEFAULTS.failureLimit),
    minRequests: 0,
    range: blockRange(doc, p),
    thresholdRanges: {},
  };
  for (const k of ['successRate', 'latencyP50Ms', 'latencyP99Ms'] as const) {
    if (typeof a[k] === 'number') {
      analysis[k] = a[k] as number;
      analysis.thresholdRanges[k] = valueRangeAt(doc, `${p}/${k}`);
    }
  }
  const q = obj(a.queries);
  const queries: NonNullable<Analysis['queries']> = {};
  for (const k of ['successRate', 'latencyP50Ms', 'latencyP99Ms', 'requests'] as const) if (typeof q[k] === 'string') queries[k] = q[k] as string;
  if (Object.keys(queries).length) analysis.queries = queries;
  analysis.minRequests = num(a.minRequests, minRequestsDefault(analysis));
  return analysis;
}
