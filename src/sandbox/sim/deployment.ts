// The Deployment controller, following kube-controller-manager's pkg/controller/deployment:
// ReplicaSets named `<deployment>-<pod-template-hash>`, revisions, RollingUpdate (maxSurge /
// maxUnavailable) and Recreate, proportional scaling, pause, status and the Progressing / Available
// conditions with progressDeadlineSeconds, and ScalingReplicaSet events.
import type { KubeObject } from '../api/store';
import { deepEqual } from '../api/json';
import type { ControllerContext } from './controllers';
import { fnv1a32, NAME_ALPHABET } from './random';
import {
  type Condition, type PodTemplate, getCondition, ownerRef, parseTime, resolveIntOrPercent, rfc3339, setCondition, removeCondition, omitZero, podIsTerminal,
} from './k8s';

export const HASH_LABEL = 'pod-template-hash';
export const REVISION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const SKIP_COPY = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS]);
const SOURCE = { component: 'deployment-controller' };

interface DeploymentSpec {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
  template?: PodTemplate;
  strategy?: { type?: string; rollingUpdate?: { maxSurge?: number | string; maxUnavailable?: number | string } };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  progressDeadlineSeconds?: number;
  paused?: boolean;
}

interface DeploymentStatus {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: Condition[];
}

interface RSStatus {
  replicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
}

// ---------------------------------------------------------------------------------------------
// Pure helpers (exported for tests)

/** pod-template-hash: FNV-1a of the template (stable key order) and the collision count, encoded safely. */
export function podTemplateHash(template: unknown, collisionCount?: number): string {
  const h = fnv1a32(stableJson(template) + (collisionCount ? `#${collisionCount}` : ''));
  // Kubernetes SafeEncodeString maps each decimal digit of the hash to its alphabet.
  return String(h)
    .split('')
    .map((c) => NAME_ALPHABET[c.charCodeAt(0) % NAME_ALPHABET.length])
    .join('');
}

export function stableJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
    .join(',')}}`;
}

/** maxSurge and maxUnavailable resolved against replicas (deploymentutil.ResolveFenceposts). */
export function fenceposts(d: { replicas: number; maxSurge: unknown; maxUnavailable: unknown }): { surge: number; unavailable: number } {
  const surge = resolveIntOrPercent(d.maxSurge ?? '25%', d.replicas, true);
  let unavailable = resolveIntOrPercent(d.maxUnavailable ?? '25%', d.replicas, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable: Math.min(unavailable, d.replicas) };
}

function templateWithoutHash(t: PodTemplate | undefined): PodTemplate {
  const copy = structuredClone(t ?? {}) as PodTemplate;
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[HASH_LABEL];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  // Compared piecewise instead of on clones: this runs for every ReplicaSet on every sync.
  const labels = (t: PodTemplate | undefined) => {
    const l = { ...(t?.metadata?.labels ?? {}) };
    delete l[HASH_LABEL];
    return l;
  };
  if (!deepEqual(labels(a), labels(b))) return false;
  if (!deepEqual({ ...(a?.metadata ?? {}), labels: undefined }, { ...(b?.metadata ?? {}), labels: undefined })) return false;
  return deepEqual({ ...(a ?? {}), metadata: undefined }, { ...(b ?? {}), metadata: undefined });
}

function revisionOf(o: KubeObject): number {
  const n = Number(o.metadata.annotations?.[REVISION] ?? '0');
  return Number.isFinite(n) ? n : 0;
}

function rsReplicas(rs: KubeObject): number {
  return (rs.spec as { replicas?: number } | undefined)?.replicas ?? 0;
}

function rsStatus(rs: KubeObject): RSStatus {
  return (rs.status ?? {}) as RSStatus;
}

/** Available pods of an RS, never more than it is supposed to keep (conservative while it scales down). */
function rsAvailable(rs: KubeObject): number {
  return Math.min(rsStatus(rs).availableReplicas ?? 0, rsReplicas(rs));
}

function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = parseTime(a.metadata.creationTimestamp) ?? 0;
  const tb = parseTime(b.metadata.creationTimestamp) ?? 0;
  return ta - tb || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

// ---------------------------------------------------------------------------------------------
// The sync loop

export function syncDeployment(ctx: ControllerContext, ns: string, name: string): void {
  const d = ctx.store.tryGet('deployments.apps', ns, name);
  if (!d || d.metadata.deletionTimestamp) return;
  const spec = (d.spec ?? {}) as DeploymentSpec;
  const rsList = ctx.replicaSets.owned(d.metadata.uid).filter((rs) => !rs.metadata.deletionTimestamp);

  if (checkPausedConditions(ctx, d)) return; // status written; the change re-queues us

  if (spec.paused) {
    syncScaleOnly(ctx, d, rsList);
    return;
  }
  if (isScalingEvent(d, rsList)) {
    syncScaleOnly(ctx, d, rsList);
    return;
  }
  if (spec.strategy?.type === 'Recreate') rolloutRecreate(ctx, d, rsList);
  else rolloutRolling(ctx, d, rsList);
}

function replicasOf(d: KubeObject): number {
  return ((d.spec ?? {}) as DeploymentSpec).replicas ?? 1;
}

function fenceOf(d: KubeObject): { surge: number; unavailable: number } {
  const spec = (d.spec ?? {}) as DeploymentSpec;
  if (spec.strategy?.type === 'Recreate') return { surge: 0, unavailable: 0 };
  return fenceposts({ replicas: replicasOf(d), maxSurge: spec.strategy?.rollingUpdate?.maxSurge, maxUnavailable: spec.strategy?.rollingUpdate?.maxUnavailable });
}

function hasProgressDeadline(d: KubeObject): boolean {
  const s = (d.spec ?? {}) as DeploymentSpec;
  return s.progressDeadlineSeconds !== undefined && s.progressDeadlineSeconds !== 2147483647;
}

/** Progressing=Unknown DeploymentPaused / DeploymentResumed, as checkPausedConditions does. Returns true when it wrote. */
function checkPausedConditions(ctx: ControllerContext, d: KubeObject): boolean {
  if (!hasProgressDeadline(d)) return false;
  const st = (d.status ?? {}) as DeploymentStatus;
  const cond = getCondition(st.conditions, 'Progressing');
  if (cond?.reason === 'ProgressDeadlineExceeded') return false;
  const paused = Boolean(((d.spec ?? {}) as DeploymentSpec).paused);
  const pausedCond = cond?.reason === 'DeploymentPaused';
  let next: Condition | undefined;
  const now = rfc3339(ctx.clock.now());
  if (paused && !pausedCond) next = { type: 'Progressing', status: 'Unknown', reason: 'DeploymentPaused', message: 'Deployment is paused', lastUpdateTime: now, lastTransitionTime: now };
  else if (!paused && pausedCond) next = { type: 'Progressing', status: 'Unknown', reason: 'DeploymentResumed', message: 'Deployment is resumed', lastUpdateTime: now, lastTransitionTime: now };
  if (!next) return false;
  const conds = setCondition(st.conditions ?? [], next);
  ctx.store.modify('deployments.apps', d.metadata.namespace, d.metadata.name!, (draft) => {
    draft.status = { ...((draft.status as object) ?? {}), conditions: conds };
  }, { subresource: 'status' });
  return true;
}

function isScalingEvent(d: KubeObject, rsList: KubeObject[]): boolean {
  const replicas = replicasOf(d);
  for (const rs of rsList) {
    if (rsReplicas(rs) === 0) continue;
    const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
    if (desired !== undefined && Number(desired) !== replicas) return true;
  }
  return false;
}

/** Finds the new RS (template equal to the Deployment's), the old ones, and syncs revisions. */
function getAllReplicaSetsAndSyncRevision(ctx: ControllerContext, d: KubeObject, rsList: KubeObject[], create: boolean): { newRS?: KubeObject; oldRSs: KubeObject[] } {
  const spec = (d.spec ?? {}) as DeploymentSpec;
  const sorted = [...rsList].sort(byCreation);
  let newRS = sorted.find((rs) => equalIgnoreHash((rs.spec as { template?: PodTemplate }).template, spec.template));
  const oldRSs = sorted.filter((rs) => rs !== newRS);
  const maxOld = oldRSs.reduce((m, rs) => Math.max(m, revisionOf(rs)), 0);
  const newRevision = maxOld + 1;

  if (newRS) {
    const cur = revisionOf(newRS);
    const minReady = spec.minReadySeconds ?? 0;
    const rsSpec = (newRS.spec ?? {}) as { minReadySeconds?: number };
    const wantAnnotations = copiedAnnotations(d, newRS.metadata.annotations ?? {});
    if (cur < newRevision) {
      // Rolling back to an old template: the RS gets the next revision and remembers its old ones.
      const history = newRS.metadata.annotations?.[REVISION_HISTORY];
      if (cur > 0) wantAnnotations[REVISION_HISTORY] = history ? `${history},${cur}` : String(cur);
      wantAnnotations[REVISION] = String(newRevision);
    }
    if (!deepEqual(wantAnnotations, newRS.metadata.annotations ?? {}) || (rsSpec.minReadySeconds ?? 0) !== minReady) {
      newRS = ctx.store.modify('replicasets.apps', newRS.metadata.namespace, newRS.metadata.name!, (draft) => {
        draft.metadata.annotations = wantAnnotations;
        (draft.spec as { minReadySeconds?: number }).minReadySeconds = minReady || undefined;
      });
    }
    syncDeploymentRevision(ctx, d, revisionOf(newRS));
    const cond = getCondition(((d.status ?? {}) as DeploymentStatus).conditions, 'Progressing');
    if (hasProgressDeadline(d) && !cond) {
      const now = rfc3339(ctx.clock.now());
      writeConditions(ctx, d, [{ type: 'Progressing', status: 'True', reason: 'FoundNewReplicaSet', message: `Found new replica set "${newRS.metadata.name}"`, lastUpdateTime: now, lastTransitionTime: now }]);
    }
    return { newRS, oldRSs };
  }
  if (!create) return { newRS: undefined, oldRSs };

  // Create the new ReplicaSet.
  const st = (d.status ?? {}) as DeploymentStatus;
  const collisionCount = st.collisionCount ?? 0;
  const template = templateWithoutHash(spec.template);
  const hash = podTemplateHash(template, collisionCount);
  const rsName = `${d.metadata.name}-${hash}`;
  const labels = { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash };
  const newTemplate: PodTemplate = { ...template, metadata: { ...(template.metadata ?? {}), labels } };
  const selector = { ...(spec.selector ?? {}), matchLabels: { ...(spec.selector?.matchLabels ?? {}), [HASH_LABEL]: hash } };
  const replicas = spec.strategy?.type === 'Recreate' ? 0 : newRSReplicas(d, oldRSs, undefined);
  const { surge } = fenceOf(d);
  const annotations = {
    ...copiedAnnotations(d, {}),
    [REVISION]: String(newRevision),
    [DESIRED_REPLICAS]: String(replicasOf(d)),
    [MAX_REPLICAS]: String(replicasOf(d) + surge),
  };
  const existing = ctx.store.tryGet('replicasets.apps', d.metadata.namespace, rsName);
  if (existing) {
    // A hash collision with an RS we do not recognise: bump collisionCount and try again next sync.
    ctx.store.modify('deployments.apps', d.metadata.namespace, d.metadata.name!, (draft) => {
      draft.status = { ...((draft.status as object) ?? {}), collisionCount: collisionCount + 1 };
    }, { subresource: 'status' });
    return { newRS: undefined, oldRSs };
  }
  const rs: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: rsName,
      namespace: d.metadata.namespace,
      labels,
      annotations,
      ownerReferences: [ownerRef(d)],
    },
    spec: omitZero({ replicas, minReadySeconds: spec.minReadySeconds ?? 0, selector, template: newTemplate }, ['replicas']),
  };
  const created = ctx.store.create('replicasets.apps', rs);
  ctx.replicaSets.update(undefined, created);
  if (replicas > 0) ctx.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${rsName} from 0 to ${replicas}`, SOURCE);
  syncDeploymentRevision(ctx, d, newRevision);
  if (hasProgressDeadline(d)) {
    const now = rfc3339(ctx.clock.now());
    const fresh = ctx.store.tryGet('deployments.apps', d.metadata.namespace, d.metadata.name!) ?? d;
    writeConditions(ctx, fresh, [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetCreated', message: `Created new replica set "${rsName}"`, lastUpdateTime: now, lastTransitionTime: now }]);
  }
  return { newRS: created, oldRSs };
}

function copiedAnnotations(d: KubeObject, current: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of [REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS]) if (current[k] !== undefined) out[k] = current[k];
  for (const [k, v] of Object.entries(d.metadata.annotations ?? {})) if (!SKIP_COPY.has(k)) out[k] = v;
  return out;
}

function syncDeploymentRevision(ctx: ControllerContext, d: KubeObject, revision: number): void {
  const cur = ctx.store.tryGet('deployments.apps', d.metadata.namespace, d.metadata.name!);
  if (!cur || cur.metadata.annotations?.[REVISION] === String(revision)) return;
  ctx.store.modify('deployments.apps', d.metadata.namespace, d.metadata.name!, (draft) => {
    draft.metadata.annotations = { ...(draft.metadata.annotations ?? {}), [REVISION]: String(revision) };
  }, { subresource: 'status' }); // as kube-controller-manager does: no generation bump
}

function writeConditions(ctx: ControllerContext, d: KubeObject, conds: Condition[]): void {
  ctx.store.modify('deployments.apps', d.metadata.namespace, d.metadata.name!, (draft) => {
    const st = (draft.status ?? {}) as DeploymentStatus;
    let list = st.conditions ?? [];
    for (const c of conds) list = setCondition(list, c);
    draft.status = { ...st, conditions: list };
  }, { subresource: 'status' });
}

/** How many replicas the new RS may have now (deploymentutil.NewRSNewReplicas for RollingUpdate). */
function newRSReplicas(d: KubeObject, oldRSs: KubeObject[], newRS: KubeObject | undefined): number {
  const replicas = replicasOf(d);
  const { surge } = fenceOf(d);
  const current = oldRSs.reduce((n, rs) => n + rsReplicas(rs), 0) + (newRS ? rsReplicas(newRS) : 0);
  const maxTotal = replicas + surge;
  const newCount = newRS ? rsReplicas(newRS) : 0;
  if (current >= maxTotal) return newCount;
  const up = Math.min(maxTotal - current, replicas - newCount);
  return newCount + Math.max(0, up);
}

function scaleRS(ctx: ControllerContext, d: KubeObject, rs: KubeObject, to: number): KubeObject {
  const from = rsReplicas(rs);
  const { surge } = fenceOf(d);
  const desired = String(replicasOf(d));
  const max = String(replicasOf(d) + surge);
  const ann = rs.metadata.annotations ?? {};
  if (from === to && ann[DESIRED_REPLICAS] === desired && ann[MAX_REPLICAS] === max) return rs;
  const updated = ctx.store.modify('replicasets.apps', rs.metadata.namespace, rs.metadata.name!, (draft) => {
    (draft.spec as { replicas?: number }).replicas = to;
    draft.metadata.annotations = { ...(draft.metadata.annotations ?? {}), [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: max };
  });
  if (from !== to) {
    const verb = to > from ? 'up' : 'down';
    ctx.events.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${verb} replica set ${rs.metadata.name} from ${from} to ${to}`, SOURCE);
  }
  return updated;
}

function rolloutRolling(ctx: ControllerContext, d: KubeObject, rsList: KubeObject[]): void {
  const { newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true);
  if (!newRS) return; // collision handled; re-queued by the status write
  const replicas = replicasOf(d);
  // Scale up the new RS within maxSurge.
  const want = rsReplicas(newRS) > replicas ? replicas : newRSReplicas(d, oldRSs, newRS);
  if (want !== rsReplicas(newRS)) {
    const n = scaleRS(ctx, d, newRS, want);
    syncRolloutStatus(ctx, d, [...oldRSs, n], n);
    return;
  }
  // Scale down old RSs within maxUnavailable.
  if (reconcileOldReplicaSets(ctx, d, oldRSs, newRS)) {
    syncRolloutStatus(ctx, d, refreshed(ctx, [...oldRSs, newRS]), newRS);
    return;
  }
  // Keep the annotations on the new RS current even when no scaling happened.
  const n = scaleRS(ctx, d, newRS, rsReplicas(newRS));
  if (deploymentComplete(d, calculateStatus(ctx, d, [...oldRSs, n], n))) cleanupDeployment(ctx, d, oldRSs);
  syncRolloutStatus(ctx, d, [...oldRSs, n], n);
}

function refreshed(ctx: ControllerContext, list: KubeObject[]): KubeObject[] {
  return list.map((rs) => ctx.store.tryGet('replicasets.apps', rs.metadata.namespace, rs.metadata.name!)).filter((x): x is KubeObject => Boolean(x));
}

function reconcileOldReplicaSets(ctx: ControllerContext, d: KubeObject, oldRSs: KubeObject[], newRS: KubeObject): boolean {
  const oldPods = oldRSs.reduce((n, rs) => n + rsReplicas(rs), 0);
  if (oldPods === 0) return false;
  const all = [...oldRSs, newRS];
  const allPods = all.reduce((n, rs) => n + rsReplicas(rs), 0);
  const replicas = replicasOf(d);
  const { unavailable } = fenceOf(d);
  const minAvailable = replicas - unavailable;
  const newUnavailable = rsReplicas(newRS) - rsAvailable(newRS);
  const maxScaledDown = allPods - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return false;

  // First remove old replicas that are not available anyway (cleanupUnhealthyReplicas).
  let cleaned = 0;
  const current = new Map(oldRSs.map((rs) => [rs.metadata.uid!, rs]));
  for (const rs of [...oldRSs].sort(byCreation)) {
    if (cleaned >= maxScaledDown) break;
    const r = rsReplicas(rs);
    const avail = rsAvailable(rs);
    if (r === 0 || r === avail) continue;
    const down = Math.min(maxScaledDown - cleaned, r - avail);
    current.set(rs.metadata.uid!, scaleRS(ctx, d, rs, r - down));
    cleaned += down;
  }

  // Then scale down available old replicas while keeping minAvailable (scaleDownOldReplicaSetsForRollingUpdate).
  const olds = [...current.values()];
  const availableNow = [...olds, newRS].reduce((n, rs) => n + rsAvailable(rs), 0);
  let scaled = 0;
  if (availableNow > minAvailable) {
    const total = availableNow - minAvailable;
    for (const rs of olds.sort(byCreation)) {
      if (scaled >= total) break;
      const r = rsReplicas(rs);
      if (r === 0) continue;
      const down = Math.min(r, total - scaled);
      scaleRS(ctx, d, rs, r - down);
      scaled += down;
    }
  }
  return cleaned + scaled > 0;
}

function rolloutRecreate(ctx: ControllerContext, d: KubeObject, rsList: KubeObject[]): void {
  let { newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  let scaledDown = false;
  for (const rs of oldRSs) {
    if (rsReplicas(rs) === 0) continue;
    scaleRS(ctx, d, rs, 0);
    scaledDown = true;
  }
  if (scaledDown) {
    syncRolloutStatus(ctx, d, refreshed(ctx, newRS ? [...oldRSs, newRS] : oldRSs), newRS);
    return;
  }
  // Wait until every old pod is gone before starting new ones.
  const oldPodsRunning = oldRSs.some((rs) => ctx.pods.owned(rs.metadata.uid).some((p) => !podIsTerminal(p)));
  if (oldPodsRunning) {
    syncRolloutStatus(ctx, d, newRS ? [...oldRSs, newRS] : oldRSs, newRS);
    return;
  }
  if (!newRS) {
    ({ newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d, rsList, true));
    if (!newRS) return;
  }
  const n = scaleRS(ctx, d, newRS, replicasOf(d));
  if (deploymentComplete(d, calculateStatus(ctx, d, [...oldRSs, n], n))) cleanupDeployment(ctx, d, oldRSs);
  syncRolloutStatus(ctx, d, [...oldRSs, n], n);
}

/** Scaling without rolling (paused deployments, replica changes): proportional across active RSs. */
function syncScaleOnly(ctx: ControllerContext, d: KubeObject, rsList: KubeObject[]): void {
  const { newRS, oldRSs } = getAllReplicaSetsAndSyncRevision(ctx, d, rsList, false);
  const all = newRS ? [newRS, ...oldRSs] : oldRSs;
  const replicas = replicasOf(d);
  const active = all.filter((rs) => rsReplicas(rs) > 0);
  let target: KubeObject | undefined;
  if (active.length === 1) target = active[0];
  else if (active.length === 0) target = newRS ?? [...oldRSs].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
  if (target) {
    scaleRS(ctx, d, target, replicas);
  } else if (newRS && rsReplicas(newRS) === replicas && rsAvailable(newRS) === replicas) {
    for (const rs of oldRSs) if (rsReplicas(rs) > 0) scaleRS(ctx, d, rs, 0);
  } else {
    // Proportional scaling (deployment/sync.go scale()).
    const { surge } = fenceOf(d);
    const allowed = replicas > 0 ? replicas + surge : 0;
    const current = active.reduce((n, rs) => n + rsReplicas(rs), 0);
    const toAdd = allowed - current;
    if (toAdd !== 0) {
      const order = [...active].sort((a, b) => (toAdd > 0 ? rsReplicas(b) - rsReplicas(a) : rsReplicas(a) - rsReplicas(b)) || byCreation(b, a));
      let added = 0;
      const sizes = new Map<KubeObject, number>();
      for (const rs of order) {
        const max = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? '0');
        const fraction = replicas === 0 ? -rsReplicas(rs) : max > 0 ? Math.round((rsReplicas(rs) * allowed) / max) - rsReplicas(rs) : 0;
        const left = toAdd - added;
        const p = toAdd > 0 ? Math.min(fraction, left) : Math.max(fraction, left);
        sizes.set(rs, rsReplicas(rs) + p);
        added += p;
      }
      if (added !== toAdd && order.length) sizes.set(order[0], Math.max(0, (sizes.get(order[0]) ?? 0) + toAdd - added));
      for (const [rs, size] of sizes) scaleRS(ctx, d, rs, Math.max(0, size));
    } else {
      for (const rs of active) scaleRS(ctx, d, rs, rsReplicas(rs));
    }
  }
  const fresh = refreshed(ctx, all);
  const freshNew = newRS ? fresh.find((r) => r.metadata.uid === newRS.metadata.uid) : undefined;
  if (((d.spec ?? {}) as DeploymentSpec).paused) writeStatus(ctx, d, calculateStatus(ctx, d, fresh, freshNew));
  else syncRolloutStatus(ctx, d, fresh, freshNew);
}

function cleanupDeployment(ctx: ControllerContext, d: KubeObject, oldRSs: KubeObject[]): void {
  const limit = ((d.spec ?? {}) as DeploymentSpec).revisionHistoryLimit ?? 10;
  const dead = oldRSs.filter((rs) => rsReplicas(rs) === 0 && (rsStatus(rs).replicas ?? 0) === 0).sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
  const excess = dead.length - limit;
  for (let i = 0; i < excess; i++) {
    try {
      ctx.store.delete('replicasets.apps', dead[i].metadata.namespace, dead[i].metadata.name!);
    } catch {}
  }
}

function calculateStatus(ctx: ControllerContext, d: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): DeploymentStatus {
  const replicas = replicasOf(d);
  const actual = all.reduce((n, rs) => n + (rsStatus(rs).replicas ?? 0), 0);
  const specTotal = all.reduce((n, rs) => n + rsReplicas(rs), 0);
  const available = all.reduce((n, rs) => n + (rsStatus(rs).availableReplicas ?? 0), 0);
  const ready = all.reduce((n, rs) => n + (rsStatus(rs).readyReplicas ?? 0), 0);
  const updated = newRS ? (rsStatus(newRS).replicas ?? 0) : 0;
  const prev = (d.status ?? {}) as DeploymentStatus;
  const { unavailable } = fenceOf(d);
  let conds = prev.conditions ?? [];
  const now = rfc3339(ctx.clock.now());
  if (available >= replicas - unavailable) {
    conds = setCondition(conds, { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: undefined });
  } else {
    conds = setCondition(conds, { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: undefined });
  }
  conds = stampNew(conds, 'Available', now);
  return omitZero({
    observedGeneration: d.metadata.generation,
    replicas: actual,
    updatedReplicas: updated,
    readyReplicas: ready,
    availableReplicas: available,
    unavailableReplicas: Math.max(0, specTotal - available),
    collisionCount: prev.collisionCount,
    conditions: conds,
  } as DeploymentStatus & Record<string, unknown>);
}

/** Conditions set without times (setCondition with a changed status) get both timestamps now. */
function stampNew(conds: Condition[], type: string, now: string): Condition[] {
  return conds.map((c) => (c.type === type && !c.lastTransitionTime ? { ...c, lastUpdateTime: now, lastTransitionTime: now } : c.type === type && !c.lastUpdateTime ? { ...c, lastUpdateTime: now } : c));
}

function deploymentComplete(d: KubeObject, s: DeploymentStatus): boolean {
  const r = replicasOf(d);
  return (s.updatedReplicas ?? 0) === r && (s.replicas ?? 0) === r && (s.availableReplicas ?? 0) === r && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

function syncRolloutStatus(ctx: ControllerContext, dIn: KubeObject, all: KubeObject[], newRS: KubeObject | undefined): void {
  const d = ctx.store.tryGet('deployments.apps', dIn.metadata.namespace, dIn.metadata.name!) ?? dIn;
  const next = calculateStatus(ctx, d, all, newRS);
  const prev = (d.status ?? {}) as DeploymentStatus;
  const nowMs = ctx.clock.now();
  const now = rfc3339(nowMs);
  const current = getCondition(prev.conditions, 'Progressing');
  let conds = next.conditions ?? [];
  const deadline = ((d.spec ?? {}) as DeploymentSpec).progressDeadlineSeconds ?? 600;
  if (!hasProgressDeadline(d)) {
    conds = removeCondition(conds, 'Progressing');
  } else {
    const complete = (next.replicas ?? 0) === (next.updatedReplicas ?? 0) && current?.reason === 'NewReplicaSetAvailable';
    if (!complete) {
      const rsName = newRS?.metadata.name;
      const oldReplicasPrev = (prev.replicas ?? 0) - (prev.updatedReplicas ?? 0);
      const oldReplicasNext = (next.replicas ?? 0) - (next.updatedReplicas ?? 0);
      const progressing = (next.updatedReplicas ?? 0) > (prev.updatedReplicas ?? 0) || oldReplicasNext < oldReplicasPrev || (next.readyReplicas ?? 0) > (prev.readyReplicas ?? 0) || (next.availableReplicas ?? 0) > (prev.availableReplicas ?? 0);
      if (deploymentComplete(d, next)) {
        conds = putCondition(conds, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : 'Deployment has successfully progressed.', lastUpdateTime: now }, now);
      } else if (progressing) {
        conds = putCondition(conds, { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: rsName ? `ReplicaSet "${rsName}" is progressing.` : 'Deployment is progressing.', lastUpdateTime: now }, now);
      } else if (current && current.reason !== 'NewReplicaSetAvailable') {
        const from = parseTime(current.lastUpdateTime) ?? nowMs;
        if (current.reason === 'ProgressDeadlineExceeded' || from + deadline * 1000 < nowMs) {
          if (current.reason !== 'ProgressDeadlineExceeded') {
            conds = putCondition(conds, { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${d.metadata.name}" has timed out progressing.`, lastUpdateTime: now }, now);
          }
        } else {
          // Not progressing yet: look again right after the deadline (requeueStuckDeployment).
          ctx.enqueueAfter('deployment', d.metadata.namespace!, d.metadata.name!, from + deadline * 1000 - nowMs + 1000);
        }
      }
    }
  }
  writeStatus(ctx, d, { ...next, conditions: conds });
}

function putCondition(conds: Condition[], c: Condition, now: string): Condition[] {
  const cur = getCondition(conds, c.type);
  const transition = cur && cur.status === c.status && cur.lastTransitionTime ? cur.lastTransitionTime : now;
  const next = { ...c, lastTransitionTime: transition };
  const i = conds.findIndex((x) => x.type === c.type);
  const out = [...conds];
  if (i >= 0) out[i] = next;
  else out.push(next);
  return out;
}

function writeStatus(ctx: ControllerContext, d: KubeObject, next: DeploymentStatus): void {
  const cur = ctx.store.tryGet('deployments.apps', d.metadata.namespace, d.metadata.name!);
  if (!cur) return;
  // Keep condition order stable: Available first, then Progressing (as kube-controller-manager writes them).
  const order = (c: Condition) => (c.type === 'Available' ? 0 : c.type === 'Progressing' ? 1 : 2);
  const conditions = [...(next.conditions ?? [])].sort((a, b) => order(a) - order(b));
  const status = { ...next, observedGeneration: cur.metadata.generation, conditions };
  if (deepEqual(status, cur.status)) return;
  ctx.store.modify('deployments.apps', d.metadata.namespace, d.metadata.name!, (draft) => {
    draft.status = status;
  }, { subresource: 'status' });
}
