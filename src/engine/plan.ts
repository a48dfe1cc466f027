// The plan: a validated Pipeline narrowed to one environment, with every name and label the engine will
// use decided up front (pure). Cleanup is exact because everything created carries these labels.
import type { AnalysisTemplateSet } from './analysis';
import type { Analysis, AppRef, Environment, Pipeline, RouterType, StageMode, StrategyType, TestSpec, Weights } from '../deployfile/model';

export const LABEL = {
  pipeline: 'kube-delivery.dev/pipeline',
  track: 'kube-delivery.dev/track',
  managedBy: 'kube-delivery.dev/managed-by',
  environment: 'kube-delivery.dev/environment',
  run: 'kube-delivery.dev/run',
  test: 'kube-delivery.dev/test',
  stage: 'kube-delivery.dev/stage',
  /** On the pods of every blue-green colour (value: the pipeline): selects both colours for preview traffic. */
  blueGreen: 'kube-delivery.dev/blue-green',
} as const;
export const MANAGED_BY = 'kube-delivery';

export type Track = 'stable' | 'canary' | 'baseline' | 'blue' | 'green';

/** One step of traffic the run goes through. simple: one stage; blueGreen: preview then switch. */
export interface PlanStage {
  index: number;
  weights: Weights;
  mode: StageMode;
  analysis?: Analysis;
  tests: string[];
  pauseMs: number;
  /** Human label ("canary 10%", "preview", "switch"). */
  label: string;
}

export interface PlanNames {
  stable: string;
  canary: string;
  baseline: string;
  service: string;
  canaryService: string;
  baselineService: string;
  previewService?: string;
  /** nginx: the canary Ingress the engine creates beside the user's. */
  canaryIngress?: string;
  record: string;
  lease: string;
}

export interface Plan {
  pipeline: string;
  environment: Environment;
  namespace: string;
  context: string;
  strategy: StrategyType;
  router?: RouterType;
  baseline: boolean;
  app: AppRef;
  image: string;
  manifests: string[];
  /** Directory of the deploy file, manifests are relative to it. */
  baseDir: string;
  stages: PlanStage[];
  tests: Record<string, TestSpec>;
  names: PlanNames;
  routerObjects: { virtualService?: string; destinationRule?: string; httpRoute?: string; ingress?: string };
  /** replicas router: total pods the ratios are computed over (undefined: stable's replicas). */
  totalReplicas?: number;
  simple?: { timeoutMs: number; maxSurge: string | number; maxUnavailable: string | number };
  blueGreen?: { autoPromote: boolean; autoPromoteDelayMs: number; scaleDownDelayMs: number; previewWeight: number };
  prometheus?: { service?: { namespace: string; name: string; port: number }; url?: string };
  templates?: AnalysisTemplateSet;
}

export type PlanResult = { ok: true; plan: Plan } | { ok: false; message: string };

function dirOf(file: string): string {
  const i = Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\'));
  return i >= 0 ? file.slice(0, i) : '.';
}

/** Turns a pipeline + environment name into a plan, or says why it cannot. */
export function makePlan(pipeline: Pipeline, environment: string): PlanResult {
  const env = pipeline.environments.find((e) => e.name === environment);
  if (!env) {
    const names = pipeline.environments.map((e) => e.name).join(', ') || '(none)';
    return { ok: false, message: `pipeline '${pipeline.name}' has no environment '${environment}' (environments: ${names})` };
  }
  const app = pipeline.app;
  const s = pipeline.strategy;
  const svc = app.service;
  const names: PlanNames = {
    stable: app.deployment,
    canary: `${app.deployment}-canary`,
    baseline: `${app.deployment}-baseline`,
    service: svc,
    canaryService: `${svc}-canary`,
    baselineService: `${svc}-baseline`,
    record: `kube-delivery-${pipeline.name}`,
    lease: `kube-delivery-${pipeline.name}`,
  };
  const base: Omit<Plan, 'stages' | 'strategy'> = {
    pipeline: pipeline.name,
    environment: env,
    namespace: env.namespace,
    context: env.context,
    baseline: false,
    app,
    image: pipeline.image,
    manifests: pipeline.manifests,
    baseDir: dirOf(pipeline.file || './x'),
    tests: pipeline.tests,
    names,
    routerObjects: {},
    prometheus: pipeline.metrics.prometheus,
  };
  for (const stage of stagesOf(pipeline)) {
    for (const t of stage.tests) {
      if (!pipeline.tests[t]) return { ok: false, message: `stage ${stage.index + 1} runs test '${t}' which is not defined under tests` };
    }
  }
  if (s.type === 'simple') {
    return { ok: true, plan: { ...base, strategy: 'simple', stages: stagesOf(pipeline), simple: { timeoutMs: s.timeoutMs, maxSurge: s.maxSurge, maxUnavailable: s.maxUnavailable } } };
  }
  if (s.type === 'blueGreen') {
    names.previewService = s.previewService;
    return {
      ok: true,
      plan: {
        ...base,
        strategy: 'blueGreen',
        stages: stagesOf(pipeline),
        blueGreen: { autoPromote: s.autoPromote, autoPromoteDelayMs: s.autoPromoteDelayMs, scaleDownDelayMs: s.scaleDownDelayMs, previewWeight: s.previewWeight },
      },
    };
  }
  const t = s.traffic;
  if (t.router === 'nginx') {
    if (!t.ingress) return { ok: false, message: `the nginx router needs traffic.ingress (the Ingress of '${svc}')` };
    if (s.baseline) return { ok: false, message: 'the nginx router cannot split traffic three ways (one canary Ingress per host): set baseline: false' };
    names.canaryIngress = `${t.ingress}-canary`;
  }
  if (t.router === 'istio' && !t.virtualService) return { ok: false, message: 'the istio router needs traffic.virtualService' };
  if (t.router === 'gatewayApi' && !t.httpRoute) return { ok: false, message: 'the gatewayApi router needs traffic.httpRoute' };
  if (s.stages.length === 0) return { ok: false, message: 'a canary needs at least one stage' };
  for (const st of s.stages) {
    const sum = st.weights.canary + st.weights.baseline + st.weights.current;
    if (sum !== 100) return { ok: false, message: `stage weights must sum to 100, got ${sum}` };
    if (!s.baseline && st.weights.baseline > 0) return { ok: false, message: 'baseline weight set but baseline: false' };
  }
  return {
    ok: true,
    plan: {
      ...base,
      strategy: 'canary',
      router: t.router,
      baseline: s.baseline,
      stages: stagesOf(pipeline),
      routerObjects: {
        virtualService: t.virtualService,
        destinationRule: t.destinationRule ?? t.virtualService,
        httpRoute: t.httpRoute,
        ingress: t.ingress,
      },
      totalReplicas: t.replicas,
    },
  };
}

function stagesOf(p: Pipeline): PlanStage[] {
  const s = p.strategy;
  if (s.type === 'simple') {
    return [{ index: 0, weights: { canary: 100, baseline: 0, current: 0 }, mode: 'auto', tests: s.tests, pauseMs: 0, label: 'rolling update' }];
  }
  if (s.type === 'blueGreen') {
    return [
      { index: 0, weights: { canary: s.previewWeight, baseline: 0, current: 100 - s.previewWeight }, mode: s.autoPromote ? 'auto' : 'manual', analysis: s.analysis, tests: s.tests, pauseMs: s.autoPromote ? s.autoPromoteDelayMs : 0, label: s.previewWeight > 0 ? `preview ${s.previewWeight}%` : 'preview' },
      { index: 1, weights: { canary: 100, baseline: 0, current: 0 }, mode: 'auto', tests: [], pauseMs: 0, label: 'switch' },
    ];
  }
  return s.stages.map((st, index) => ({
    index,
    weights: st.weights,
    mode: st.mode,
    analysis: st.analysis,
    tests: st.tests,
    pauseMs: st.pauseMs,
    label: `canary ${st.weights.canary}%`,
  }));
}

/** Labels put on everything the engine creates for a pipeline (cleanup selects on them). */
export function ownedLabels(plan: Plan, track?: Track): Record<string, string> {
  const l: Record<string, string> = { [LABEL.pipeline]: plan.pipeline, [LABEL.managedBy]: MANAGED_BY, [LABEL.environment]: plan.environment.name };
  if (track) l[LABEL.track] = track;
  return l;
}

/**
 * Whether canary pods are reached through the user's own Service. The replicas router splits by pod
 * count behind that Service and Istio splits it by subset, so canary pods must be selected by it; the
 * gatewayApi and nginx routers send canary traffic to `<service>-canary`, so canary pods must NOT be
 * selected by the user's Service (or they would also get a share of the stable traffic).
 */
export function canaryInUserService(plan: Plan): boolean {
  return plan.router === 'replicas' || plan.router === 'istio';
}
