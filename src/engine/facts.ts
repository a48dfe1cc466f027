// Facts: the driver's view of the live objects (from watches), reduced to what the state machine needs.
// Pure helpers, including the `kubectl rollout status` rules.

export interface DeploymentFacts {
  name: string;
  generation: number;
  observedGeneration: number;
  /** spec.replicas */
  desired: number;
  /** status.replicas */
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  image?: string;
  progressDeadlineExceeded: boolean;
  /** Some pod of the current template is crash-looping (CrashLoopBackOff or restarts rising). */
  crashLooping: boolean;
  crashMessage?: string;
  labels?: Record<string, string>;
}

export interface JobFacts {
  name: string;
  succeeded: boolean;
  failed: boolean;
  message?: string;
}

export interface Facts {
  deployments: Record<string, DeploymentFacts | undefined>;
  jobs: Record<string, JobFacts | undefined>;
  /** Pods not being deleted, per owning Deployment (they outlive a deleted Deployment for a while). */
  pods?: Record<string, number>;
}

export const emptyFacts = (): Facts => ({ deployments: {}, jobs: {}, pods: {} });

/** Pods per Deployment that still serve (no deletionTimestamp): what a Service may still send traffic to. */
export function podsPerDeployment(pods: ObjLike[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const d = deploymentOfPod(p);
    if (d) out[d] = (out[d] ?? 0) + 1;
  }
  return out;
}

export type RolloutStatus = { state: 'done' } | { state: 'waiting'; message: string } | { state: 'error'; message: string };

/** `kubectl rollout status` for a Deployment, in kubectl's order; a crash loop is an error too. */
export function rolloutStatus(d: DeploymentFacts | undefined, name: string): RolloutStatus {
  if (!d) return { state: 'waiting', message: `waiting for Deployment ${name} to appear` };
  if (d.generation > d.observedGeneration) return { state: 'waiting', message: `waiting for Deployment ${name} spec update to be observed` };
  if (d.progressDeadlineExceeded) return { state: 'error', message: `Deployment ${name} exceeded its progress deadline` };
  if (d.crashLooping) return { state: 'error', message: `pods of Deployment ${name} are crash-looping${d.crashMessage ? `: ${d.crashMessage}` : ''}` };
  if (d.updated < d.desired) return { state: 'waiting', message: `${name}: ${d.updated} of ${d.desired} new pods updated` };
  if (d.replicas > d.updated) return { state: 'waiting', message: `${name}: ${d.replicas - d.updated} old pods terminating` };
  if (d.available < d.updated) return { state: 'waiting', message: `${name}: ${d.available} of ${d.updated} updated pods available` };
  return { state: 'done' };
}

// ---- facts from live objects (pure) ----

interface ObjLike {
  metadata: { name: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string }[]; generation?: number; deletionTimestamp?: string };
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Restarts after which a not-ready container counts as crash-looping even before CrashLoopBackOff. */
export const CRASH_RESTARTS = 3;

/** The Deployment a pod belongs to, from its ReplicaSet owner `<deployment>-<pod-template-hash>`. */
export function deploymentOfPod(pod: ObjLike): string | undefined {
  const rs = (pod.metadata.ownerReferences ?? []).find((o) => o.kind === 'ReplicaSet')?.name;
  if (!rs) return undefined;
  const hash = pod.metadata.labels?.['pod-template-hash'];
  if (hash && rs.endsWith(`-${hash}`)) return rs.slice(0, rs.length - hash.length - 1);
  const i = rs.lastIndexOf('-');
  return i > 0 ? rs.slice(0, i) : undefined;
}

function crashOf(pod: ObjLike, image: string | undefined): string | undefined {
  for (const cs of (pod.status?.containerStatuses ?? []) as { image?: string; ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string; message?: string } } }[]) {
    const podImage = ((pod.spec?.containers ?? []) as { image?: string }[])[0]?.image ?? cs.image;
    if (image && podImage && podImage !== image) continue;
    const reason = cs.state?.waiting?.reason;
    if (reason === 'CrashLoopBackOff' || reason === 'ImagePullBackOff' || reason === 'ErrImagePull') return `${pod.metadata.name} ${reason}${cs.restartCount ? ` (${cs.restartCount} restarts)` : ''}`;
    if (!cs.ready && (cs.restartCount ?? 0) >= CRASH_RESTARTS) return `${pod.metadata.name} restarted ${cs.restartCount} times`;
  }
  return undefined;
}

export function deploymentFactsOf(dep: ObjLike, container: string | undefined, pods: ObjLike[]): DeploymentFacts {
  const st = dep.status ?? {};
  const containers = (dep.spec?.template?.spec?.containers ?? []) as { name: string; image: string }[];
  const image = (containers.find((c) => c.name === container) ?? containers[0])?.image;
  const conds = (st.conditions ?? []) as { type: string; status: string; reason?: string }[];
  const pde = conds.some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
  let crash: string | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp || deploymentOfPod(p) !== dep.metadata.name) continue;
    crash = crashOf(p, image);
    if (crash) break;
  }
  return {
    name: dep.metadata.name,
    generation: dep.metadata.generation ?? 0,
    observedGeneration: st.observedGeneration ?? 0,
    desired: dep.spec?.replicas ?? 1,
    replicas: st.replicas ?? 0,
    updated: st.updatedReplicas ?? 0,
    ready: st.readyReplicas ?? 0,
    available: st.availableReplicas ?? 0,
    image,
    progressDeadlineExceeded: pde,
    crashLooping: crash !== undefined,
    crashMessage: crash,
    labels: dep.metadata.labels,
  };
}

export function jobFactsOf(job: ObjLike): JobFacts {
  const st = job.status ?? {};
  const conds = (st.conditions ?? []) as { type: string; status: string; reason?: string; message?: string }[];
  const failedCond = conds.find((c) => c.type === 'Failed' && c.status === 'True');
  const complete = conds.some((c) => c.type === 'Complete' && c.status === 'True') || (st.succeeded ?? 0) > 0;
  const backoff = job.spec?.backoffLimit ?? 6;
  const failed = Boolean(failedCond) || (!complete && (st.failed ?? 0) > backoff);
  return { name: job.metadata.name, succeeded: complete && !failedCond, failed, message: failedCond ? `${failedCond.reason ?? 'Failed'}${failedCond.message ? `: ${failedCond.message}` : ''}` : undefined };
}
