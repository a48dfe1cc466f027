// Builds the RolloutSnapshot (what every view reads) from the record, the plan and live facts (pure).
import type { Plan } from './plan';
import { actualWeights, availability } from './machine';
import type { Facts } from './facts';
import type { KubeError } from './ports';
import type { RecordDoc } from './record';
import type { RolloutSnapshot, StageStatus, VersionStatus } from './snapshot';
import { STABLE_ONLY, formatWeights } from './weights';

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export interface ViewInput {
  plan: Plan;
  doc: RecordDoc;
  facts: Facts;
  now: number;
  seq: number;
  driver?: RolloutSnapshot['driver'];
  error?: RolloutSnapshot['error'];
}

export function buildSnapshot(v: ViewInput): RolloutSnapshot {
  const { plan, doc, facts, now } = v;
  const rec = doc.current;
  const count = plan.stages.length;
  const actions = availability(plan, rec);
  const versions = versionsOf(v);
  // What every snapshot of this target carries, with or without a run.
  const common = {
    pipeline: plan.pipeline,
    environment: plan.environment.name,
    context: plan.context,
    namespace: plan.namespace,
    strategy: plan.strategy,
    router: plan.router,
    seq: v.seq,
    versions,
    actions,
    driver: v.driver,
    history: doc.history,
    error: v.error,
  };
  if (!rec) {
    return {
      ...common,
      phase: 'idle',
      reason: 'no rollout yet',
      updatedAt: new Date(now).toISOString(),
      stage: { index: 0, count },
      stages: plan.stages.map((s) => ({ index: s.index, mode: s.mode, weights: s.weights, state: 'pending' })),
      weights: { requested: { ...STABLE_ONLY }, actual: { ...STABLE_ONLY } },
      analysis: [],
      tests: [],
      timeline: [],
      events: [],
    };
  }
  const stages: StageStatus[] = plan.stages.map((s, i) => {
    const t = rec.stageTimes[i] ?? {};
    let state: StageStatus['state'] = 'pending';
    if (t.state === 'failed') state = 'failed';
    else if (t.state === 'skipped') state = 'skipped';
    else if (t.finishedAt !== undefined) state = 'done';
    else if (i === rec.stage && rec.step !== 'done') state = 'current';
    else if (i < rec.stage || (rec.phase === 'succeeded' && t.startedAt !== undefined)) state = 'done';
    return { index: i, mode: s.mode, weights: s.weights, state, gate: i === rec.stage ? rec.gate?.kind : undefined, startedAt: iso(t.startedAt), finishedAt: iso(t.finishedAt) };
  });
  const actual = actualWeights(plan, rec, facts);
  const stageLabel = `stage ${Math.min(rec.stage + 1, count)}/${count}`;
  let reason = rec.reason;
  if (rec.phase === 'progressing' || rec.phase === 'waiting' || rec.phase === 'paused') {
    reason = plan.strategy === 'canary' ? `${stageLabel} · canary ${actual.canary}% · ${rec.reason}` : `${stageLabel} · ${rec.reason}`;
  }
  return {
    ...common,
    runId: rec.runId,
    phase: rec.phase,
    reason,
    startedAt: iso(rec.startedAt),
    finishedAt: iso(rec.finishedAt),
    updatedAt: new Date(rec.updatedAt).toISOString(),
    fromImage: rec.fromImage,
    toImage: rec.image,
    stage: { index: Math.min(rec.stage, count - 1), count },
    stages,
    weights: { requested: rec.requested, actual },
    gate: rec.gate
      ? {
          kind: rec.gate.kind,
          since: new Date(rec.gate.since).toISOString(),
          message: rec.gate.message,
          checksDone: rec.checks?.stage === rec.stage ? rec.checks.passed : undefined,
          checksNeeded: plan.stages[rec.stage]?.analysis?.checks,
          nextCheckAt: iso(rec.gate.nextCheckAt),
        }
      : undefined,
    analysis: rec.analysis,
    tests: rec.tests,
    timeline: rec.timeline.map((t) => ({ at: new Date(t.at).toISOString(), stage: t.stage, requested: t.requested, actual: t.actual })),
    events: rec.events,
  };
}

function versionsOf(v: ViewInput): VersionStatus[] {
  const { plan, facts } = v;
  const rec = v.doc.current;
  const d = facts.deployments;
  const out: VersionStatus[] = [];
  const add = (role: VersionStatus['role'], name: string, active?: boolean) => {
    const f = d[name];
    if (!f && role !== 'stable') return;
    out.push({ role, deployment: name, image: f?.image ?? '', desired: f?.desired ?? 0, ready: f?.ready ?? 0, updated: f?.updated ?? 0, available: f?.available ?? 0, active });
  };
  if (plan.strategy === 'blueGreen') {
    const activeTrack = rec?.applied.active ?? rec?.stable?.activeTrack ?? 'stable';
    add('stable', plan.names.stable, activeTrack === 'stable');
    add('blue', `${plan.names.stable}-blue`, activeTrack === 'blue');
    add('green', `${plan.names.stable}-green`, activeTrack === 'green');
    return out;
  }
  add('stable', plan.names.stable);
  if (plan.strategy === 'canary') {
    add('canary', plan.names.canary);
    if (plan.baseline) add('baseline', plan.names.baseline);
  }
  return out;
}

/** One line for logs and the CLI's non-TTY mode. */
export function summaryLine(s: RolloutSnapshot): string {
  const w = s.weights.actual;
  const weights = s.strategy === 'canary' ? ` · ${formatWeights(w)}` : '';
  return `${s.pipeline}/${s.environment} ${s.phase}${weights} · ${s.reason}`;
}

/** How a cluster error shows in a snapshot (and an attention entry): the kinds a view explains. */
export function viewError(err: KubeError): NonNullable<RolloutSnapshot['error']> {
  const kind = err.kind === 'forbidden' || err.kind === 'notFound' || err.kind === 'invalid' ? err.kind : err.kind === 'unreachable' || err.kind === 'timeout' ? 'unreachable' : 'other';
  return { kind, message: err.message };
}
