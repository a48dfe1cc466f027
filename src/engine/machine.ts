// The rollout state machine, as pure functions over the record:
//   decide(record, plan, facts, now)  -> the next effect to run, a pure update, or a wait (with a wake-up time)
//   complete(record, effect, result)  -> the record after an effect succeeded
//   fail(record, effect, error)       -> the record after an effect failed (retry later or stop safely)
//   request(record, action)           -> the record after a human asked for promote/abort/pause/resume
// The driver persists the record with the effect marked pending BEFORE running it and with its result
// AFTER, so a driver that restarts re-runs at most the one pending (idempotent) effect and never skips a
// gate: every gate is a step of the record, only left by decide() or an explicit request.
import type { Weights } from '../deployfile/model';
import { checkVerdict, inconclusiveSummary, metricsOf, nextCheckAt } from './analysis';
import type { Effect, EffectError, EffectResult } from './effects';
import { rolloutStatus, type Facts } from './facts';
import type { Plan, PlanStage } from './plan';
import { isTerminal, type RequestAction, type RunRecord, type StepName } from './record';
import type { GateKind, Measurement, RolloutAction, RolloutEvent, TestRun } from './snapshot';
import { CANARY_ONLY, STABLE_ONLY, actualFromReady, formatWeights, replicaSplit, sameWeights } from './weights';

export type Decision =
  | { kind: 'effect'; rec: RunRecord; effect: Effect }
  | { kind: 'update'; rec: RunRecord }
  | { kind: 'wait'; rec: RunRecord; wakeAt?: number }
  | { kind: 'idle'; rec: RunRecord };

/** Readiness of new pods must not hang forever when a Deployment has no progress deadline. */
export const READY_TIMEOUT_MS = 10 * 60_000;
export const RETRY_BASE_MS = 500;
export const RETRY_MAX_MS = 15_000;
/** After this many transient failures in a row a run stops in a safe, explained state. */
export const RETRY_LIMIT = 40;

const iso = (ms: number) => new Date(ms).toISOString();

export function newRun(plan: Plan, opts: { runId: string; image: string; actor?: string; now: number }): RunRecord {
  return {
    runId: opts.runId,
    environment: plan.environment.name,
    strategy: plan.strategy,
    router: plan.router,
    image: opts.image,
    actor: opts.actor,
    phase: 'progressing',
    reason: 'starting',
    startedAt: opts.now,
    updatedAt: opts.now,
    step: 'prepare',
    stage: 0,
    stepSince: opts.now,
    stageTimes: plan.stages.map(() => ({})),
    paused: false,
    requested: { ...STABLE_ONLY },
    actual: { ...STABLE_ONLY },
    tests: [],
    analysis: [],
    timeline: [],
    events: [{ at: iso(opts.now), type: 'Normal', reason: 'Started', message: `rollout of ${opts.image} to ${plan.environment.name} started${opts.actor ? ` by ${opts.actor}` : ''}` }],
    effectSeq: 0,
    journal: [],
    applied: {},
    lastRequest: 0,
  };
}

function event(rec: RunRecord, now: number, reason: string, message: string, type: RolloutEvent['type'] = 'Normal'): RunRecord {
  return { ...rec, events: [...rec.events, { at: iso(now), type, reason, message }] };
}

function goto(rec: RunRecord, step: StepName, now: number, patch: Partial<RunRecord> = {}): RunRecord {
  return { ...rec, ...patch, step, stepSince: now, gate: undefined, retry: undefined, updatedAt: now };
}

type EffectBody = Effect extends infer E ? (E extends { id: string } ? Omit<E, 'id'> : never) : never;

function effect(rec: RunRecord, now: number, e: EffectBody): Decision {
  const id = `${rec.runId}/${rec.effectSeq + 1}`;
  const full = { ...e, id } as Effect;
  return {
    kind: 'effect',
    effect: full,
    rec: { ...rec, effectSeq: rec.effectSeq + 1, pending: full, updatedAt: now, journal: [...rec.journal, { id, kind: full.kind, at: now, status: 'started' }] },
  };
}

function wait(rec: RunRecord, now: number, kind: GateKind | undefined, message: string, wakeAt?: number, extra: { nextCheckAt?: number } = {}): Decision {
  const human = kind === 'manual' || kind === 'noData';
  const gated = kind !== undefined && kind !== 'rolloutStatus';
  const phase = rec.outcome ? 'progressing' : gated ? 'waiting' : 'progressing';
  const same = rec.gate && rec.gate.kind === kind && rec.gate.message === message && rec.gate.nextCheckAt === extra.nextCheckAt;
  const gate = kind ? (same ? rec.gate : { kind, since: rec.gate?.kind === kind ? rec.gate.since : now, message, nextCheckAt: extra.nextCheckAt }) : undefined;
  const reason = human || gated ? message : message;
  const next = same && rec.phase === phase && rec.reason === reason ? rec : { ...rec, phase, gate, reason, updatedAt: now };
  return { kind: 'wait', rec: next as RunRecord, wakeAt };
}

/** Begin a rollback: the next writes put all traffic back on the current version. */
export function startRollback(rec: RunRecord, now: number, outcome: NonNullable<RunRecord['outcome']>): RunRecord {
  if (isTerminal(rec.phase)) return rec;
  if (rec.outcome) return rec.step.startsWith('rollback') ? rec : goto(rec, 'rollbackRoute', now);
  const stageTimes = rec.stageTimes.map((s, i) => (i === rec.stage && !s.finishedAt ? { ...s, finishedAt: now, state: 'failed' as const } : s));
  // A forward effect still pending (retrying, or cut short by a dead driver) is dropped: it must not run
  // after the abort. It may have landed, so the rollback treats what it would have changed as changed.
  let applied = rec.applied;
  const p = rec.pending;
  if (p) {
    if (p.kind === 'setImage') applied = { ...applied, stable: p.image };
    if (p.kind === 'ensureTrack') applied = { ...applied, [p.track === 'canary' || p.track === 'baseline' ? p.track : 'idle']: 'unknown' };
    if (p.kind === 'route') applied = { ...applied, route: 'unknown', canary: applied.canary ?? 'unknown' };
    if (p.kind === 'switch') applied = { ...applied, active: p.to };
    if (p.kind === 'scale' && p.replicas === 0 && p.deployment === rec.stable?.activeDeployment) applied = { ...applied, oldScaled: '0' };
  }
  const journal = p ? rec.journal.map((j) => (j.id === p.id ? { ...j, status: 'failed' as const, note: 'dropped by rollback' } : j)) : rec.journal;
  // A re-run asked for but not started yet never starts once the run rolls back.
  const tests = rec.tests.some((t) => t.status === 'pending') ? rec.tests.map((t) => (t.status === 'pending' ? { ...t, status: 'failed' as const, message: 'not started: the run rolled back first' } : t)) : rec.tests;
  let r = goto(rec, 'rollbackRoute', now, { outcome, phase: 'progressing', reason: `rolling back: ${outcome.reason}`, stageTimes, paused: false, pending: undefined, applied, journal, tests });
  r = event(r, now, outcome.phase === 'aborted' ? 'Aborted' : 'RollingBack', outcome.reason, 'Warning');
  return r;
}

function finish(rec: RunRecord, now: number, phase: RunRecord['phase'], reason: string): RunRecord {
  // After success the new version is the stable one: all traffic is on "current".
  const weights = phase === 'succeeded' ? { requested: { ...STABLE_ONLY }, actual: { ...STABLE_ONLY } } : {};
  const r = goto(rec, 'done', now, { phase, reason, finishedAt: now, gate: undefined, ...weights });
  return event(r, now, phase === 'succeeded' ? 'Succeeded' : phase === 'aborted' ? 'Aborted' : phase === 'rolledBack' ? 'RolledBack' : 'Failed', reason, phase === 'succeeded' ? 'Normal' : 'Warning');
}

/** Pods per track wanted at a stage (the replicas router splits a total; others scale with the weight). */
export function stagePods(plan: Plan, rec: RunRecord, w: Weights): { canary: number; baseline: number; stable: number } {
  const base = rec.stable?.replicas ?? 1;
  if (plan.router === 'replicas') return replicaSplit(w, plan.totalReplicas ?? base);
  const pods = (pct: number) => (pct > 0 ? Math.max(1, Math.ceil((base * pct) / 100)) : 0);
  return { canary: pods(w.canary), baseline: pods(w.baseline), stable: base };
}

function stageOf(plan: Plan, rec: RunRecord): PlanStage {
  return plan.stages[Math.min(rec.stage, plan.stages.length - 1)];
}

function enterStage(plan: Plan, rec: RunRecord, index: number, now: number): RunRecord {
  const stageTimes = rec.stageTimes.map((s, i) => (i === rec.stage && i !== index && !s.finishedAt ? { ...s, finishedAt: now } : s));
  if (stageTimes[index]) stageTimes[index] = { ...stageTimes[index], startedAt: now };
  const r = goto(rec, plan.strategy === 'blueGreen' && index === 1 ? 'switch' : 'deploy', now, { stage: index, stageTimes, checks: undefined, promoteStage: undefined, phase: 'progressing', reason: `starting stage ${index + 1}: ${plan.stages[index].label}` });
  return event(r, now, 'StageStarted', `stage ${index + 1}/${plan.stages.length}: ${plan.stages[index].label}`);
}

/** After a stage's gates: the next stage, or promotion. */
function advance(plan: Plan, rec: RunRecord, now: number): RunRecord {
  if (rec.stage + 1 < plan.stages.length && !rec.promoteFull) return enterStage(plan, rec, rec.stage + 1, now);
  return beginPromotion(plan, rec, now);
}

function beginPromotion(plan: Plan, rec: RunRecord, now: number): RunRecord {
  const stageTimes: RunRecord['stageTimes'] = rec.stageTimes.map((s, i) => (i <= rec.stage ? { ...s, startedAt: s.startedAt ?? now, finishedAt: s.finishedAt ?? now } : { ...s, state: s.state ?? ('skipped' as const) }));
  if (plan.strategy === 'blueGreen') {
    const last = plan.stages.length - 1;
    stageTimes[last] = { startedAt: now };
    return event(goto(rec, 'switch', now, { stage: last, stageTimes, phase: 'progressing', reason: 'switching traffic to the new colour' }), now, 'Promoting', 'switching traffic to the new colour');
  }
  const first: StepName = plan.router === 'istio' ? 'promoteCanaryScale' : 'promoteStable';
  return event(goto(rec, first, now, { stageTimes, phase: 'progressing', reason: 'promoting' }), now, 'Promoting', `promoting ${rec.image} to stable`);
}

/**
 * A stage's gates in order: tests, analysis, then the promotion gate. A promote request for the stage
 * skips what is left of them. `afterTests` is where the run goes once the tests passed.
 */
function decideStageGates(plan: Plan, rec: RunRecord, facts: Facts, now: number, afterTests: () => RunRecord): Decision {
  if (rec.step === 'gate') return decideGate(plan, rec, now);
  if (rec.promoteStage === rec.stage) return { kind: 'update', rec: advance(plan, rec, now) };
  if (rec.step === 'tests') return decideTests(plan, rec, facts, now, afterTests);
  return decideAnalysis(plan, rec, now, () => goto(rec, 'gate', now));
}

function gateAfterTests(_plan: Plan, rec: RunRecord, now: number): RunRecord {
  return goto(rec, 'analysis', now, { checks: undefined });
}

/** Ready counts per track from facts, for honest replica-router weights. */
function readyPods(plan: Plan, facts: Facts): { canary: number; baseline: number; stable: number } {
  const d = facts.deployments;
  return { canary: d[plan.names.canary]?.ready ?? 0, baseline: d[plan.names.baseline]?.ready ?? 0, stable: d[plan.names.stable]?.ready ?? 0 };
}

/** Actual weights as the router delivers them now. */
export function actualWeights(plan: Plan, rec: RunRecord, facts: Facts): Weights {
  if (plan.strategy === 'canary' && plan.router === 'replicas' && rec.step !== 'done') return actualFromReady(readyPods(plan, facts)) ?? rec.actual;
  if (plan.strategy === 'blueGreen' && rec.stable?.preview && previewOn(rec) && rec.applied.active === undefined && rec.step !== 'done') return previewActual(rec, facts) ?? rec.actual;
  return rec.actual;
}

/** blueGreen preview without a router: the share the active Service gives each colour, from ready pods. */
export function previewActual(rec: RunRecord, facts: Facts): Weights | undefined {
  const s = rec.stable;
  if (!s?.preview) return undefined;
  const d = facts.deployments;
  const idleReady = Math.min(d[s.idleDeployment ?? '']?.ready ?? 0, s.preview.pods);
  return actualFromReady({ canary: idleReady, baseline: 0, stable: d[s.activeDeployment ?? '']?.ready ?? 0 });
}

function transientWait(rec: RunRecord, now: number): Decision | undefined {
  if (rec.retry && now < rec.retry.at) return { kind: 'wait', rec, wakeAt: rec.retry.at };
  return undefined;
}

/** The next thing to do. */
export function decide(plan: Plan, rec: RunRecord, facts: Facts, now: number): Decision {
  if (rec.step === 'done' || isTerminal(rec.phase)) return { kind: 'idle', rec };
  const tw = transientWait(rec, now);
  if (tw) return tw;
  if (rec.pending) return { kind: 'effect', rec, effect: rec.pending };
  if (rec.paused && !rec.outcome) {
    const r = rec.phase === 'paused' ? rec : { ...rec, phase: 'paused' as const, reason: `paused at stage ${rec.stage + 1}/${plan.stages.length}`, updatedAt: now };
    return { kind: 'wait', rec: r };
  }
  if (!rec.outcome) {
    const rr = decideReruns(plan, rec, facts, now);
    if (rr) return rr;
  }
  if (rec.promoteFull && !rec.outcome && ['deploy', 'ready', 'route', 'tests', 'analysis', 'gate'].includes(rec.step)) {
    // deploy/ready may be mid-way for the canary; promotion starts from the current weights safely.
    if (!(plan.strategy === 'canary' && rec.step === 'deploy' && rec.stage === 0 && !rec.stable)) return { kind: 'update', rec: beginPromotion(plan, { ...rec, promoteFull: false }, now) };
  }
  switch (plan.strategy) {
    case 'simple':
      return decideSimple(plan, rec, facts, now);
    case 'canary':
      return decideCanary(plan, rec, facts, now);
    case 'blueGreen':
      return decideBlueGreen(plan, rec, facts, now);
  }
}

function readyTimeoutMs(plan: Plan): number {
  return plan.simple?.timeoutMs ?? READY_TIMEOUT_MS;
}

/** Wait until Deployments finished rolling out; error or timeout rolls back. */
function waitReady(plan: Plan, rec: RunRecord, facts: Facts, now: number, names: string[], next: () => RunRecord, failReason: (m: string) => string): Decision {
  for (const n of names) {
    const st = rolloutStatus(facts.deployments[n], n);
    if (st.state === 'error') return { kind: 'update', rec: startRollback(rec, now, { phase: 'rolledBack', reason: failReason(st.message) }) };
    if (st.state === 'waiting') {
      const deadline = rec.stepSince + readyTimeoutMs(plan);
      if (now >= deadline) return { kind: 'update', rec: startRollback(rec, now, { phase: 'rolledBack', reason: failReason(`${st.message} after ${Math.round(readyTimeoutMs(plan) / 1000)}s`) }) };
      return wait(rec, now, 'rolloutStatus', st.message, deadline);
    }
  }
  return { kind: 'update', rec: next() };
}

function decideSimple(plan: Plan, rec: RunRecord, facts: Facts, now: number): Decision {
  const stable = plan.names.stable;
  switch (rec.step) {
    case 'prepare':
      return effect(rec, now, { kind: 'prepare' });
    case 'deploy':
      return effect(rec, now, { kind: 'setImage', image: rec.image });
    case 'ready':
      return waitReady(plan, rec, facts, now, [stable], () => goto(rec, 'tests', now, { requested: { ...CANARY_ONLY }, actual: { ...CANARY_ONLY } }), (m) => m);
    case 'tests':
      return decideTests(plan, rec, facts, now, () => gateAfterTests(plan, rec, now));
    case 'analysis':
      return decideAnalysis(plan, rec, now, () => goto(rec, 'gate', now));
    case 'gate':
      return { kind: 'update', rec: finish(rec, now, 'succeeded', `${rec.image} rolled out to ${plan.environment.name}`) };
    case 'rollbackRoute':
    case 'rollbackRestore': {
      const o = rec.outcome ?? { phase: 'rolledBack', reason: 'rolled back' };
      // Nothing was changed yet: there is nothing to restore.
      if (rec.applied.stable === undefined) return { kind: 'update', rec: finish(rec, now, o.phase, o.reason) };
      return effect(goto(rec, 'rollbackRestore', now), now, { kind: 'restoreStable' });
    }
    case 'rollbackReady': {
      const st = rolloutStatus(facts.deployments[stable], stable);
      if (st.state === 'waiting' && now < rec.stepSince + READY_TIMEOUT_MS) return wait(rec, now, 'rolloutStatus', `restoring previous version: ${st.message}`, rec.stepSince + READY_TIMEOUT_MS);
      const o = rec.outcome ?? { phase: 'rolledBack', reason: 'rolled back' };
      if (st.state !== 'done') return { kind: 'update', rec: finish(rec, now, 'failed', `${o.reason}; restoring the previous version did not complete either (${'message' in st ? st.message : ''}): check the Deployment ${stable}`) };
      return { kind: 'update', rec: finish(rec, now, o.phase, o.reason) };
    }
    default:
      return { kind: 'update', rec: goto(rec, rec.outcome ? 'rollbackRoute' : 'tests', now) };
  }
}

function decideCanary(plan: Plan, rec: RunRecord, facts: Facts, now: number): Decision {
  const n = plan.names;
  const stage = stageOf(plan, rec);
  switch (rec.step) {
    case 'prepare':
      return effect(rec, now, { kind: 'prepare' });
    case 'deploy': {
      const pods = stagePods(plan, rec, stage.weights);
      const want = `${rec.image}@${pods.canary}`;
      if (rec.applied.canary !== want) return effect(rec, now, { kind: 'ensureTrack', track: 'canary', image: rec.image, replicas: pods.canary });
      if (plan.baseline) {
        const bw = `${rec.stable?.image}@${pods.baseline}`;
        if (rec.applied.baseline !== bw) return effect(rec, now, { kind: 'ensureTrack', track: 'baseline', image: rec.stable?.image ?? rec.image, replicas: pods.baseline });
      }
      return { kind: 'update', rec: goto(rec, 'ready', now) };
    }
    case 'ready': {
      const names = [n.canary, ...(plan.baseline && stagePods(plan, rec, stage.weights).baseline > 0 ? [n.baseline] : [])];
      return waitReady(plan, rec, facts, now, names, () => goto(rec, 'route', now), (m) => `canary stage ${rec.stage + 1}: ${m}`);
    }
    case 'route': {
      const w = stage.weights;
      if (rec.applied.route !== key(w)) return effect(rec, now, { kind: 'route', weights: w, stageMax: w.canary });
      return { kind: 'update', rec: goto(rec, 'tests', now) };
    }
    case 'tests':
    case 'analysis':
    case 'gate':
      return decideStageGates(plan, rec, facts, now, () => gateAfterTests(plan, rec, now));
    case 'promoteCanaryScale': {
      const full = rec.stable?.replicas ?? 1;
      if (rec.applied.canary !== `${rec.image}@${full}`) return effect(rec, now, { kind: 'ensureTrack', track: 'canary', image: rec.image, replicas: full });
      return { kind: 'update', rec: goto(rec, 'promoteCanaryReady', now) };
    }
    case 'promoteCanaryReady':
      return waitReady(plan, rec, facts, now, [n.canary], () => goto(rec, 'promoteCanaryRoute', now), (m) => `promotion: ${m}`);
    case 'promoteCanaryRoute':
      if (rec.applied.route !== key(CANARY_ONLY)) return effect(rec, now, { kind: 'route', weights: { ...CANARY_ONLY }, stageMax: 100 });
      return { kind: 'update', rec: goto(rec, 'promoteStable', now) };
    case 'promoteStable':
      if (rec.applied.stable !== rec.image) return effect(rec, now, { kind: 'setImage', image: rec.image, replicas: rec.stable?.replicas });
      return { kind: 'update', rec: goto(rec, 'promoteStableReady', now) };
    case 'promoteStableReady':
      return waitReady(plan, rec, facts, now, [n.stable], () => goto(rec, 'promoteRoute', now), (m) => `promotion of stable failed: ${m}`);
    case 'promoteRoute':
      if (plan.router === 'istio' && rec.applied.hash !== rec.image) return effect(rec, now, { kind: 'refreshStable' });
      if (rec.applied.route !== key(STABLE_ONLY)) return effect(rec, now, { kind: 'route', weights: { ...STABLE_ONLY }, stageMax: 0 });
      return { kind: 'update', rec: goto(rec, 'cleanup', now) };
    case 'cleanup':
      if (rec.applied.cleanup !== 'promoted') return effect(rec, now, { kind: 'cleanup', reason: 'promoted' });
      return { kind: 'update', rec: finish(rec, now, 'succeeded', `${rec.image} promoted to stable in ${plan.environment.name}`) };
    case 'rollbackRoute':
      // One router write puts all traffic back on the current version.
      if (rec.applied.route !== key(STABLE_ONLY) && rec.applied.canary !== undefined) return effect(rec, now, { kind: 'route', weights: { ...STABLE_ONLY }, stageMax: 0 });
      if (rec.applied.stable !== undefined && rec.applied.stable !== rec.stable?.image) return { kind: 'update', rec: goto(rec, 'rollbackRestore', now) };
      return { kind: 'update', rec: goto(rec, 'rollbackCleanup', now) };
    case 'rollbackRestore':
      // Promotion had already touched stable: put its template back first.
      if (rec.applied.stable !== rec.stable?.image) return effect(rec, now, { kind: 'restoreStable' });
      return { kind: 'update', rec: goto(rec, 'rollbackCleanup', now) };
    case 'rollbackCleanup':
      if (rec.applied.cleanup !== 'rollback') return effect(rec, now, { kind: 'cleanup', reason: 'rollback' });
      return { kind: 'update', rec: finish(rec, now, rec.outcome?.phase ?? 'rolledBack', rec.outcome?.reason ?? 'rolled back') };
    default:
      return { kind: 'update', rec: goto(rec, rec.outcome ? 'rollbackRoute' : 'deploy', now) };
  }
}

/** blueGreen: the weights the preview stage asks for (none when preview traffic is not possible). */
function previewWeights(plan: Plan, rec: RunRecord): Weights {
  const w = rec.stable?.preview ? plan.blueGreen?.previewWeight ?? 0 : 0;
  return { canary: w, baseline: 0, current: 100 - w };
}

/**
 * Pods of the new colour that take at most `weight` percent of the traffic beside `live` pods of the live
 * colour when a Service selects both (0: not even one pod fits under the weight).
 */
export function previewPods(live: number, weight: number): number {
  if (weight <= 0 || weight >= 100) return 0;
  return Math.floor((Math.max(1, live) * weight) / (100 - weight) + 1e-9);
}

/** Whether the preview selector (both colours) may be in place on the active Service. */
const previewOn = (rec: RunRecord): boolean => rec.applied.route !== undefined && rec.applied.route !== key(STABLE_ONLY);

function decideBlueGreen(plan: Plan, rec: RunRecord, facts: Facts, now: number): Decision {
  const s = rec.stable;
  const idle = s?.idleDeployment ?? `${plan.names.stable}-green`;
  const idleTrack = s?.idleTrack ?? 'green';
  const pv = s?.preview;
  const full = s?.replicas ?? 1;
  switch (rec.step) {
    case 'prepare':
      return effect(rec, now, { kind: 'prepare' });
    case 'deploy': {
      // The user's own Service is narrowed to the live pods (one write) before the new colour's pods,
      // which carry its labels, exist.
      if (pv?.user && rec.applied.route === undefined) return effect(rec, now, { kind: 'route', weights: { ...STABLE_ONLY }, stageMax: 0 });
      const pods = pv ? pv.pods : full;
      if (rec.applied.idle !== `${rec.image}@${pods}`) return effect(rec, now, { kind: 'ensureTrack', track: idleTrack, image: rec.image, replicas: pods });
      return { kind: 'update', rec: goto(rec, 'ready', now) };
    }
    case 'ready':
      return waitReady(plan, rec, facts, now, [idle], () => goto(rec, 'tests', now), (m) => `new colour: ${m}`);
    case 'tests':
    case 'analysis':
    case 'gate':
      return decideStageGates(plan, rec, facts, now, () => (pv ? goto(rec, 'route', now) : gateAfterTests(plan, rec, now)));
    case 'route': {
      const w = previewWeights(plan, rec);
      if (pv && rec.applied.route !== key(w)) return effect(rec, now, { kind: 'route', weights: w, stageMax: w.canary });
      return { kind: 'update', rec: gateAfterTests(plan, rec, now) };
    }
    case 'switch': {
      if (rec.applied.active !== idleTrack) {
        // Preview share back to the live colour first: the new colour must not grow while it is selected.
        if (previewOn(rec)) return effect(rec, now, { kind: 'route', weights: { ...STABLE_ONLY }, stageMax: 0 });
        if (rec.applied.idle !== `${rec.image}@${full}`) return effect(rec, now, { kind: 'ensureTrack', track: idleTrack, image: rec.image, replicas: full });
        const st = rolloutStatus(facts.deployments[idle], idle);
        const deadline = rec.stepSince + READY_TIMEOUT_MS;
        if (st.state === 'error' || (st.state === 'waiting' && now >= deadline)) return { kind: 'update', rec: startRollback(rec, now, { phase: 'rolledBack', reason: `new colour before the switch: ${st.message}` }) };
        if (st.state === 'waiting') return wait(rec, now, 'rolloutStatus', `new colour scaling to ${full} pods before the switch: ${st.message}`, deadline);
        return effect(rec, now, { kind: 'switch', to: idleTrack });
      }
      return { kind: 'update', rec: goto(rec, 'scaleDownDelay', now, { switchedAt: rec.switchedAt ?? now }) };
    }
    case 'scaleDownDelay': {
      const until = (rec.switchedAt ?? rec.stepSince) + (plan.blueGreen?.scaleDownDelayMs ?? 0);
      if (now < until) return wait(rec, now, 'scaleDownDelay', `old colour kept until ${iso(until)} so a rollback is one write`, until);
      if (rec.applied.oldScaled !== '0') return effect(rec, now, { kind: 'scale', deployment: s?.activeDeployment ?? plan.names.stable, replicas: 0 });
      return { kind: 'update', rec: finish(rec, now, 'succeeded', `${rec.image} is live in ${plan.environment.name} (${s?.idleTrack})`) };
    }
    case 'rollbackRoute':
      // After the switch, switching back is the one write that restores traffic; before it, taking the
      // preview share away is.
      if (rec.applied.active !== undefined && rec.applied.active !== s?.activeTrack) return effect(rec, now, { kind: 'switch', to: s?.activeTrack ?? 'stable' });
      if (pv && previewOn(rec)) return effect(rec, now, { kind: 'route', weights: { ...STABLE_ONLY }, stageMax: 0 });
      if (rec.applied.oldScaled === '0') {
        if (rec.applied.restoredOld !== 'yes') return effect(rec, now, { kind: 'scale', deployment: s?.activeDeployment ?? plan.names.stable, replicas: s?.replicas ?? 1 });
      }
      return { kind: 'update', rec: goto(rec, 'rollbackCleanup', now) };
    case 'rollbackCleanup': {
      if (rec.applied.cleanup !== 'rollback') return effect(rec, now, { kind: 'cleanup', reason: 'rollback' });
      const o = rec.outcome ?? { phase: 'rolledBack' as const, reason: 'rolled back' };
      if (pv?.user && rec.applied.route !== undefined && rec.applied.userSelector !== 'yes') {
        // The user's selector also matches the new colour's pods: give it back once they are gone.
        const left = facts.pods?.[idle] ?? 0;
        if (left > 0) {
          if (now < rec.stepSince + READY_TIMEOUT_MS) return wait(rec, now, 'rolloutStatus', `waiting for ${left} pod${left > 1 ? 's' : ''} of ${idle} to go before Service ${plan.names.service} gets its own selector back`, rec.stepSince + READY_TIMEOUT_MS);
          const kept = Object.entries(pv.active).map(([k, v]) => `${k}=${v}`).join(',');
          return { kind: 'update', rec: event(finish(rec, now, o.phase, o.reason), now, 'SelectorKept', `pods of ${idle} are still running after ${Math.round(READY_TIMEOUT_MS / 60_000)} min: Service ${plan.names.service} keeps the selector ${kept}; set it back to your own once they are gone`, 'Warning') };
        }
        return effect(rec, now, { kind: 'restoreSelector' });
      }
      return { kind: 'update', rec: finish(rec, now, o.phase, o.reason) };
    }
    default:
      return { kind: 'update', rec: goto(rec, rec.outcome ? 'rollbackRoute' : 'deploy', now) };
  }
}

const key = (w: Weights) => `${w.canary}/${w.baseline}/${w.current}`;

export const jobName = (plan: Plan, rec: RunRecord, test: string, stage: number): string => {
  const base = `kd-${plan.pipeline}-${test}`.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40).replace(/-+$/, '');
  return `${base}-${rec.runId.slice(-6)}-${stage < 0 ? 'x' : stage}`;
};

/** The latest attempt of a test in a stage: re-runs add attempts and the latest is the test's verdict. */
export function latestAttempt(rec: RunRecord, name: string, stage: number): TestRun | undefined {
  let best: TestRun | undefined;
  for (const t of rec.tests) if (t.name === name && t.stage === stage && (!best || (t.attempt ?? 1) >= (best.attempt ?? 1))) best = t;
  return best;
}

/** Steps at which a stage's tests have run and its later gates (analysis, promotion gate) are pending. */
const RERUN_STEPS: StepName[] = ['tests', 'analysis', 'gate'];

/**
 * Re-runs (attempt > 1) in flight: start a requested one, record the verdict of a finished one. A re-run
 * that fails while its stage is still at its analysis or gate rolls the run back like a first failure
 * (at the tests step decideTests reads the latest attempt anyway). Undefined: nothing to do here.
 */
function decideReruns(plan: Plan, rec: RunRecord, facts: Facts, now: number): Decision | undefined {
  for (const t of rec.tests) {
    if ((t.attempt ?? 1) < 2 || !t.job) continue;
    if (t.status === 'pending') return effect(rec, now, { kind: 'startTest', test: t.name, stage: t.stage, job: t.job, attempt: t.attempt });
    if (t.status !== 'running') continue;
    const job = facts.jobs[t.job];
    if (job?.succeeded) return effect(rec, now, { kind: 'finishTest', test: t.name, stage: t.stage, job: t.job, outcome: 'passed' });
    if (job?.failed) return effect(rec, now, { kind: 'finishTest', test: t.name, stage: t.stage, job: t.job, outcome: 'failed' });
    if (now >= Date.parse(t.startedAt ?? iso(now)) + (plan.tests[t.name]?.timeoutMs ?? 120_000)) return effect(rec, now, { kind: 'finishTest', test: t.name, stage: t.stage, job: t.job, outcome: 'timedOut' });
  }
  if (rec.step === 'analysis' || rec.step === 'gate') {
    for (const name of stageOf(plan, rec).tests) {
      const t = latestAttempt(rec, name, rec.stage);
      if (t && (t.attempt ?? 1) > 1 && (t.status === 'failed' || t.status === 'timedOut')) {
        return { kind: 'update', rec: startRollback(rec, now, { phase: 'rolledBack', reason: `test ${name} re-run (attempt ${t.attempt}) ${t.status === 'timedOut' ? 'timed out' : 'failed'}${t.message ? `: ${t.message}` : ''}` }) };
      }
    }
  }
  return undefined;
}

/** Whether a test of the current stage may be re-run now, and why not. */
export function rerunAvailability(plan: Plan, rec: RunRecord | undefined, test: string): { allowed: boolean; reason?: string } {
  const no = (reason: string) => ({ allowed: false, reason });
  if (!rec || isTerminal(rec.phase)) return no('no run in progress: a test can be re-run only while its run is active');
  if (rec.outcome) return no('the run is rolling back');
  if (rec.paused) return no('the run is paused: resume it first');
  if (!plan.tests[test]) return no(`the pipeline defines no test '${test}' (tests: ${Object.keys(plan.tests).join(', ') || 'none'})`);
  const stage = stageOf(plan, rec);
  const where = `stage ${rec.stage + 1}/${plan.stages.length} (${stage.label})`;
  if (!stage.tests.includes(test)) return no(`test '${test}' does not belong to the current ${where}, whose tests are: ${stage.tests.join(', ') || 'none'}`);
  if (!RERUN_STEPS.includes(rec.step)) return no(`the run is past the gates of ${where} (${rec.step})`);
  const last = latestAttempt(rec, test, rec.stage);
  if (!last) return no(`test '${test}' has not run yet in ${where}`);
  if (last.status === 'pending' || last.status === 'running') return no(`test '${test}' is already running (attempt ${last.attempt ?? 1})`);
  return { allowed: true };
}

function requestRerun(plan: Plan, rec: RunRecord, test: string, actor: string, now: number): RequestOutcome {
  const a = rerunAvailability(plan, rec, test);
  if (!a.allowed) return { ok: false, reason: a.reason ?? 'not allowed' };
  const attempt = (latestAttempt(rec, test, rec.stage)?.attempt ?? 1) + 1;
  // A new deterministic name per attempt: a driver that restarts adopts the Job instead of creating two.
  const job = `${jobName(plan, rec, test, rec.stage)}-r${attempt}`;
  const entry: TestRun = { name: test, stage: rec.stage, status: 'pending', job, attempt };
  const by = actor ? ` by ${actor}` : '';
  return { ok: true, rec: event({ ...rec, tests: [...rec.tests, entry], updatedAt: now }, now, 'TestRerunRequested', `re-run of test ${test} (attempt ${attempt})${by}`) };
}

function decideTests(plan: Plan, rec: RunRecord, facts: Facts, now: number, next: () => RunRecord): Decision {
  const stage = stageOf(plan, rec);
  const stageIdx = rec.stage;
  let wakeAt: number | undefined;
  let running = 0;
  for (const name of stage.tests) {
    const t = latestAttempt(rec, name, stageIdx);
    const spec = plan.tests[name];
    if (!t) return effect(rec, now, { kind: 'startTest', test: name, stage: stageIdx, job: jobName(plan, rec, name, stageIdx) });
    if (t.status === 'failed' || t.status === 'timedOut') {
      return { kind: 'update', rec: startRollback(rec, now, { phase: 'rolledBack', reason: `test ${name} ${t.status === 'timedOut' ? 'timed out' : 'failed'}${t.message ? `: ${t.message}` : ''}` }) };
    }
    if (t.status === 'passed') continue;
    running++;
    const job = facts.jobs[t.job ?? ''];
    if (job?.succeeded) return effect(rec, now, { kind: 'finishTest', test: name, stage: stageIdx, job: t.job!, outcome: 'passed' });
    if (job?.failed) return effect(rec, now, { kind: 'finishTest', test: name, stage: stageIdx, job: t.job!, outcome: 'failed' });
    const deadline = Date.parse(t.startedAt ?? iso(now)) + (spec?.timeoutMs ?? 120_000);
    if (now >= deadline) return effect(rec, now, { kind: 'finishTest', test: name, stage: stageIdx, job: t.job!, outcome: 'timedOut' });
    wakeAt = wakeAt === undefined ? deadline : Math.min(wakeAt, deadline);
  }
  if (running > 0) return wait(rec, now, 'tests', `running ${running} test${running > 1 ? 's' : ''}: ${stage.tests.join(', ')}`, wakeAt);
  return { kind: 'update', rec: next() };
}

/** Inconclusive checks in a row after which the run waits for a human (see decideAnalysis). */
export const inconclusiveBeforeHuman = (checksNeeded: number): number => Math.max(2, checksNeeded);

function decideAnalysis(plan: Plan, rec: RunRecord, now: number, next: () => RunRecord): Decision {
  const stage = stageOf(plan, rec);
  const a = stage.analysis;
  if (!a || metricsOf(a).length === 0) return { kind: 'update', rec: next() };
  let checks = rec.checks;
  if (!checks || checks.stage !== rec.stage) {
    checks = { stage: rec.stage, done: 0, passed: 0, failed: 0, noData: 0, inconclusive: 0, nextAt: nextCheckAt(a.schedule, now) };
    return { kind: 'update', rec: { ...rec, checks, updatedAt: now } };
  }
  if (checks.failed > a.failureLimit) {
    const lastFail = [...rec.analysis].reverse().find((m) => m.stage === rec.stage && m.verdict === 'fail');
    return { kind: 'update', rec: startRollback(rec, now, { phase: 'rolledBack', reason: `analysis failed at stage ${rec.stage + 1}: ${lastFail?.message ?? 'check failed'}` }) };
  }
  if (checks.passed >= a.checks) return { kind: 'update', rec: next() };
  if (now >= checks.nextAt) return effect(rec, now, { kind: 'measure', stage: rec.stage, check: checks.done + 1 });
  const last = [...rec.analysis].reverse().find((m) => m.stage === rec.stage);
  if (last && checks.noData > 0 && last.verdict !== 'pass' && (last.verdict === 'noData' || last.verdict === 'error')) {
    const msgs = rec.analysis.filter((m) => m.stage === rec.stage && m.check === last.check && m.verdict !== 'pass').map((m) => m.message);
    return wait(rec, now, 'noData', `analysis paused: ${msgs.join('; ')} — next check at ${iso(checks.nextAt)}; promote or abort to decide`, checks.nextAt, { nextCheckAt: checks.nextAt });
  }
  const inconclusive = checks.inconclusive ?? 0;
  if (last && inconclusive > 0 && last.verdict === 'inconclusive') {
    // Too few requests: the stage keeps checking on its schedule. One short window is common (the first
    // check of a stage still covers time before the canary had its share), so only a run of them as
    // long as the stage's own passes would take (at least 2) calls a human, through the same gate as
    // "no data": it counts as waiting for a human everywhere (badge, --stop-at-gate). The checks go on
    // meanwhile, so traffic that picks up still lets the stage pass on its own.
    const why = inconclusiveSummary(rec.analysis.filter((m) => m.stage === rec.stage && m.check === last.check));
    if (inconclusive >= inconclusiveBeforeHuman(a.checks)) {
      return wait(rec, now, 'noData', `analysis undecided: ${inconclusive} checks in a row had ${why} — checks go on, next at ${iso(checks.nextAt)}; promote to accept the stage, abort to roll back, or send the canary more traffic`, checks.nextAt, { nextCheckAt: checks.nextAt });
    }
    return wait(rec, now, 'analysis', `analysis ${checks.passed} of ${a.checks} checks passed; check ${last.check} inconclusive, ${why}; next at ${iso(checks.nextAt)}`, checks.nextAt, { nextCheckAt: checks.nextAt });
  }
  return wait(rec, now, 'analysis', `analysis ${checks.passed} of ${a.checks} checks passed, next at ${iso(checks.nextAt)}`, checks.nextAt, { nextCheckAt: checks.nextAt });
}

function decideGate(plan: Plan, rec: RunRecord, now: number): Decision {
  const stage = stageOf(plan, rec);
  if (rec.promoteStage === rec.stage) return { kind: 'update', rec: advance(plan, rec, now) };
  // A re-run of one of the stage's tests is part of the stage's gates: the stage is not left on its own
  // before the re-run's verdict is in (a human's promote still decides).
  const inFlight = stage.tests.map((n) => latestAttempt(rec, n, rec.stage)).filter((t): t is TestRun => t !== undefined && (t.status === 'pending' || t.status === 'running'));
  if (inFlight.length) {
    const wakeAt = Math.min(...inFlight.map((t) => Date.parse(t.startedAt ?? iso(now)) + (plan.tests[t.name]?.timeoutMs ?? 120_000)));
    return wait(rec, now, 'tests', `re-running ${inFlight.map((t) => `${t.name} (attempt ${t.attempt ?? 1})`).join(', ')} before leaving stage ${rec.stage + 1}/${plan.stages.length}`, wakeAt);
  }
  const startedAt = rec.stageTimes[rec.stage]?.startedAt ?? rec.stepSince;
  const until = (stage.mode === 'auto' ? rec.stepSince : startedAt) + stage.pauseMs;
  if (stage.pauseMs > 0 && stage.mode === 'auto' && now < until) return wait(rec, now, 'pause', `pausing until ${iso(until)} before the next stage`, until);
  if (stage.mode === 'manual') {
    const what = plan.strategy === 'blueGreen' ? 'switch traffic to the new colour' : rec.stage + 1 < plan.stages.length ? `go to stage ${rec.stage + 2}/${plan.stages.length}` : 'promote to stable';
    return wait(rec, now, 'manual', `waiting for promotion: promote to ${what.replace(/^promote to /, '')}`);
  }
  return { kind: 'update', rec: advance(plan, rec, now) };
}

/** Apply a successful effect's result. */
export function complete(plan: Plan, rec: RunRecord, e: Effect, result: EffectResult, now: number): RunRecord {
  const next = completeStep(plan, rec, e, result, now);
  // While rolling back, an effect's result is data only: it never moves the run forward again.
  if (rec.outcome && !next.step.startsWith('rollback') && next.step !== 'done') return { ...next, step: rec.step, stepSince: rec.stepSince };
  return next;
}

function completeStep(plan: Plan, rec: RunRecord, e: Effect, result: EffectResult, now: number): RunRecord {
  let r: RunRecord = {
    ...rec,
    pending: undefined,
    retry: undefined,
    updatedAt: now,
    journal: rec.journal.map((j) => (j.id === e.id ? { ...j, status: 'done' as const } : j)),
  };
  switch (e.kind) {
    case 'prepare': {
      if (result.kind !== 'prepare') return r;
      r = { ...r, stable: result.stable, fromImage: result.stable.image, stageTimes: r.stageTimes.map((s, i) => (i === 0 ? { ...s, startedAt: now } : s)) };
      for (const m of result.events ?? []) r = event(r, now, 'Prepared', m);
      if (result.stable.image === rec.image && plan.strategy !== 'blueGreen') r = event(r, now, 'SameImage', `${rec.image} is already the current image; rolling out anyway`);
      return goto(r, 'deploy', now);
    }
    case 'setImage':
      r = { ...r, applied: { ...r.applied, stable: e.image } };
      if (plan.strategy === 'simple') return event(goto(r, 'ready', now), now, 'ImageSet', `${plan.names.stable} image set to ${e.image}`);
      return goto(r, 'promoteStableReady', now);
    case 'restoreStable':
      r = { ...r, applied: { ...r.applied, stable: r.stable?.image ?? '' } };
      r = event(r, now, 'Restored', `${plan.names.stable} pod template restored to ${r.stable?.image}`);
      return plan.strategy === 'simple' ? goto(r, 'rollbackReady', now) : goto(r, 'rollbackCleanup', now);
    case 'ensureTrack': {
      const k = e.track === 'canary' || e.track === 'baseline' ? e.track : 'idle';
      r = { ...r, applied: { ...r.applied, [k]: `${e.image}@${e.replicas}` } };
      return event(r, now, 'Scaled', `${e.track} ${e.image} at ${e.replicas} pod${e.replicas === 1 ? '' : 's'}`);
    }
    case 'scale': {
      const old = r.stable?.activeDeployment ?? plan.names.stable;
      if (plan.strategy === 'blueGreen' && e.deployment === old) {
        r = { ...r, applied: { ...r.applied, ...(e.replicas === 0 ? { oldScaled: '0' } : { restoredOld: 'yes' }) } };
      }
      return event(r, now, 'Scaled', `${e.deployment} scaled to ${e.replicas}`);
    }
    case 'route': {
      const actual = result.kind === 'route' ? result.actual : e.weights;
      r = { ...r, requested: e.weights, actual, applied: { ...r.applied, route: key(e.weights) } };
      r = { ...r, timeline: [...r.timeline, { at: now, stage: r.stage, requested: e.weights, actual }] };
      return event(r, now, 'TrafficShifted', `${formatWeights(actual)}${sameWeights(actual, e.weights) ? '' : ` (requested ${formatWeights(e.weights)})`}`);
    }
    case 'refreshStable':
      return { ...r, applied: { ...r.applied, hash: r.image }, stable: r.stable && result.kind === 'refreshStable' ? { ...r.stable, hash: result.hash ?? r.stable.hash } : r.stable };
    case 'startTest': {
      const attempt = e.attempt ?? 1;
      const t: TestRun = { name: e.test, stage: e.stage, status: 'running', job: e.job, startedAt: iso(now), ...(attempt > 1 ? { attempt } : {}) };
      // Earlier attempts stay in the record; only this attempt's entry (a pending re-run) is replaced.
      const tests = [...r.tests.filter((x) => !(x.name === e.test && x.stage === e.stage && (x.attempt ?? 1) === attempt)), t];
      return event({ ...r, tests }, now, 'TestStarted', `test ${e.test} ${attempt > 1 ? `re-run (attempt ${attempt}) ` : ''}started as Job ${e.job}`);
    }
    case 'finishTest': {
      const extra: { logExcerpt?: string; message?: string } = result.kind === 'finishTest' ? result : {};
      const tests = r.tests.map((t) =>
        t.name === e.test && t.stage === e.stage && t.job === e.job
          ? { ...t, status: e.outcome, finishedAt: iso(now), durationMs: now - Date.parse(t.startedAt ?? iso(now)), logExcerpt: extra.logExcerpt, message: extra.message ?? (e.outcome === 'timedOut' ? `no result within ${Math.round((plan.tests[e.test]?.timeoutMs ?? 0) / 1000)}s` : undefined) }
          : t,
      );
      const attempt = tests.find((t) => t.job === e.job)?.attempt;
      return event({ ...r, tests }, now, e.outcome === 'passed' ? 'TestPassed' : 'TestFailed', `test ${e.test}${attempt ? ` (attempt ${attempt})` : ''} ${e.outcome}${extra.message ? `: ${extra.message}` : ''}`, e.outcome === 'passed' ? 'Normal' : 'Warning');
    }
    case 'measure': {
      const ms: Measurement[] = result.kind === 'measure' ? result.measurements : [];
      const v = checkVerdict(ms);
      const stage = stageOf(plan, r);
      const c = r.checks ?? { stage: r.stage, done: 0, passed: 0, failed: 0, noData: 0, inconclusive: 0, nextAt: now };
      const nextAt = stage.analysis ? nextCheckAt(stage.analysis.schedule, Math.max(now, c.nextAt)) : now;
      const checks = {
        ...c,
        done: c.done + 1,
        passed: c.passed + (v === 'pass' ? 1 : 0),
        failed: c.failed + (v === 'fail' ? 1 : 0),
        noData: v === 'noData' || v === 'error' ? c.noData + 1 : 0,
        inconclusive: v === 'inconclusive' ? (c.inconclusive ?? 0) + 1 : 0,
        nextAt,
      };
      r = { ...r, checks, analysis: [...r.analysis, ...ms] };
      if (v === 'inconclusive') {
        // Expected now and then on a quiet service; the gate says when it needs a human.
        return event(r, now, 'AnalysisInconclusive', `check ${e.check}: ${inconclusiveSummary(ms)}`);
      }
      const summary = ms.map((m) => m.message).join('; ');
      return event(r, now, v === 'pass' ? 'AnalysisPassed' : v === 'fail' ? 'AnalysisFailed' : 'AnalysisNoData', `check ${e.check}: ${summary}`, v === 'pass' ? 'Normal' : 'Warning');
    }
    case 'switch': {
      r = { ...r, applied: { ...r.applied, active: e.to } };
      const toNew = e.to === r.stable?.idleTrack;
      if (toNew) r = { ...r, requested: { ...CANARY_ONLY }, actual: { ...CANARY_ONLY }, switchedAt: now, timeline: [...r.timeline, { at: now, stage: r.stage, requested: { ...CANARY_ONLY }, actual: { ...CANARY_ONLY } }] };
      else r = { ...r, requested: { ...STABLE_ONLY }, actual: { ...STABLE_ONLY }, timeline: [...r.timeline, { at: now, stage: r.stage, requested: { ...STABLE_ONLY }, actual: { ...STABLE_ONLY } }] };
      return event(r, now, 'Switched', `active Service ${plan.names.service} now selects ${e.to}`);
    }
    case 'restoreSelector':
      return event({ ...r, applied: { ...r.applied, userSelector: 'yes' } }, now, 'SelectorRestored', `Service ${plan.names.service} selects with its own selector again`);
    case 'cleanup':
      return event({ ...r, applied: { ...r.applied, cleanup: e.reason } }, now, 'CleanedUp', e.reason === 'promoted' ? 'canary objects removed' : 'objects of the failed version removed');
  }
}

/** An effect failed. Transient: retry with backoff (the effect stays pending). Permanent: stop safely. */
export function fail(_plan: Plan, rec: RunRecord, e: Effect, err: EffectError, now: number): RunRecord {
  const attempts = (rec.retry?.attempts ?? 0) + 1;
  // What the failed attempt changed stays in the record: a retry finds it done and would not say so.
  for (const m of err.done ?? []) rec = event(rec, now, e.kind === 'prepare' ? 'Prepared' : 'EffectProgress', m);
  if (err.transient && attempts < RETRY_LIMIT) {
    const backoff = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(attempts - 1, 6));
    return { ...rec, retry: { attempts, at: now + backoff, message: err.message }, reason: `retrying ${e.kind}: ${err.message}`, updatedAt: now };
  }
  let r: RunRecord = { ...rec, pending: undefined, retry: undefined, journal: rec.journal.map((j) => (j.id === e.id ? { ...j, status: 'failed' as const, note: err.message } : j)), updatedAt: now };
  r = event(r, now, 'EffectFailed', `${e.kind} failed: ${err.message}`, 'Warning');
  if (!r.outcome) return startRollback(r, now, { phase: 'rolledBack', reason: `${e.kind} failed: ${err.message}` });
  // A rollback step itself failed for good: stop and say what a human must do.
  return finish(r, now, 'failed', `${r.outcome.reason}; then ${e.kind} failed: ${err.message}. Traffic state: ${formatWeights(r.actual)}; fix the cause and run retry or abort`);
}

export type RequestOutcome = { ok: true; rec: RunRecord } | { ok: false; reason: string };

/** Which actions make sense now (snapshot.actions and request validation share it). */
export function availability(plan: Plan, rec: RunRecord | undefined): Record<RolloutAction, { allowed: boolean; reason?: string }> {
  const no = (reason: string) => ({ allowed: false, reason });
  const yes = { allowed: true };
  const running = rec && !isTerminal(rec.phase);
  const rollingBack = Boolean(rec?.outcome);
  const promotable = running && !rollingBack && plan.strategy !== 'simple' && ['deploy', 'ready', 'route', 'tests', 'analysis', 'gate'].includes(rec!.step);
  return {
    start: running ? no('a run is in progress') : yes,
    retry: !rec ? no('no earlier run') : running ? no('a run is in progress') : rec.phase === 'succeeded' ? no('the last run succeeded') : yes,
    promote: !running ? no('no run in progress') : plan.strategy === 'simple' ? no('a simple rollout has no stages to promote') : promotable ? yes : no(rollingBack ? 'the run is rolling back' : 'the run is already promoting'),
    promoteFull: !running ? no('no run in progress') : plan.strategy === 'simple' ? no('a simple rollout has no stages to promote') : promotable ? yes : no(rollingBack ? 'the run is rolling back' : 'the run is already promoting'),
    abort: !running ? no('no run in progress') : rollingBack ? no('already rolling back') : yes,
    pause: !running ? no('no run in progress') : rec!.paused ? no('already paused') : rollingBack ? no('the run is rolling back') : yes,
    resume: !running ? no('no run in progress') : rec!.paused ? yes : no('not paused'),
  };
}

/** A human request, applied to the record by the driver (or directly, for abort without a driver). */
export function request(plan: Plan, rec: RunRecord, action: RequestAction, actor: string, now: number, test?: string): RequestOutcome {
  if (action === 'rerunTest') return requestRerun(plan, rec, test ?? '', actor, now);
  const a = availability(plan, rec)[action];
  if (!a.allowed) return { ok: false, reason: a.reason ?? 'not allowed' };
  const by = actor ? ` by ${actor}` : '';
  switch (action) {
    case 'promote':
      return { ok: true, rec: event({ ...rec, promoteStage: rec.stage, paused: false, updatedAt: now }, now, 'PromoteRequested', `promote stage ${rec.stage + 1}${by}`) };
    case 'promoteFull':
      return { ok: true, rec: event({ ...rec, promoteFull: true, paused: false, updatedAt: now }, now, 'PromoteRequested', `full promotion${by}`) };
    case 'abort':
      return { ok: true, rec: startRollback(rec, now, { phase: 'aborted', reason: `aborted${by} at stage ${rec.stage + 1}/${plan.stages.length}` }) };
    case 'pause':
      return { ok: true, rec: event({ ...rec, paused: true, phase: 'paused', reason: `paused${by}`, updatedAt: now }, now, 'Paused', `paused${by}`) };
    case 'resume':
      return { ok: true, rec: event({ ...rec, paused: false, phase: 'progressing', reason: 'resumed', updatedAt: now }, now, 'Resumed', `resumed${by}`) };
  }
}
