// The Job controller: runs `parallelism` pods until `completions` succeed, retries failed pods with
// exponential back-off up to `backoffLimit`, enforces `activeDeadlineSeconds`, and reports status
// with the conditions Kubernetes 1.32 writes (SuccessCriteriaMet + Complete, FailureTarget + Failed).
import type { KubeObject } from '../api/store';
import { deepEqual } from '../api/json';
import type { ControllerContext } from './controllers';
import { type Condition, type PodTemplate, getCondition, parseTime, rfc3339, status, podIsReady, omitZero } from './k8s';
import { createPod } from './replicaset';

const SOURCE = { component: 'job-controller' };
const BACKOFF_BASE_MS = 10_000;
const BACKOFF_MAX_MS = 360_000;

interface JobSpec {
  parallelism?: number;
  completions?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  template?: PodTemplate;
}

interface JobStatus {
  startTime?: string;
  completionTime?: string;
  active?: number;
  succeeded?: number;
  failed?: number;
  ready?: number;
  terminating?: number;
  conditions?: Condition[];
  uncountedTerminatedPods?: Record<string, unknown>;
}

export function jobFinished(job: KubeObject): 'Complete' | 'Failed' | undefined {
  const conds = ((job.status ?? {}) as JobStatus).conditions;
  if (getCondition(conds, 'Complete')?.status === 'True') return 'Complete';
  if (getCondition(conds, 'Failed')?.status === 'True') return 'Failed';
  return undefined;
}

export function syncJob(ctx: ControllerContext, ns: string, name: string): void {
  const job = ctx.store.tryGet('jobs.batch', ns, name);
  if (!job || job.metadata.deletionTimestamp) return;
  const spec = (job.spec ?? {}) as JobSpec;
  const prev = (job.status ?? {}) as JobStatus;
  const pods = ctx.pods.owned(job.metadata.uid);
  const phase = (p: KubeObject) => status<{ phase?: string }>(p).phase;
  const active = pods.filter((p) => phase(p) !== 'Succeeded' && phase(p) !== 'Failed' && !p.metadata.deletionTimestamp);
  const succeeded = pods.filter((p) => phase(p) === 'Succeeded').length;
  const failedPods = pods.filter((p) => phase(p) === 'Failed');
  const failed = Math.max(prev.failed ?? 0, failedPods.length);
  const nowMs = ctx.clock.now();
  const now = rfc3339(nowMs);
  const finished = jobFinished(job);
  const startTime = prev.startTime ?? (spec.suspend ? undefined : now);
  let conditions = prev.conditions ?? [];
  let completionTime = prev.completionTime;

  const fail = (reason: string, message: string) => {
    for (const p of active) {
      try {
        ctx.store.delete('pods', p.metadata.namespace, p.metadata.name!);
      } catch {}
    }
    conditions = [
      ...conditions,
      { type: 'FailureTarget', status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now },
      { type: 'Failed', status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now },
    ];
    ctx.events.record(job, 'Warning', reason, message, SOURCE);
  };

  let activeCount = active.length;
  if (!finished) {
    const completions = spec.completions ?? 1;
    const parallelism = spec.parallelism ?? 1;
    const deadline = spec.activeDeadlineSeconds;
    const started = parseTime(startTime);
    if (deadline !== undefined && started !== undefined && nowMs - started >= deadline * 1000) {
      fail('DeadlineExceeded', 'Job was active longer than specified deadline');
      activeCount = 0;
    } else if (failed + restartsOnFailure(spec, active) > (spec.backoffLimit ?? 6)) {
      fail('BackoffLimitExceeded', 'Job has reached the specified backoff limit');
      activeCount = 0;
    } else if (succeeded >= completions) {
      conditions = [
        ...conditions,
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: now, lastTransitionTime: now },
      ];
      completionTime = now;
      ctx.events.record(job, 'Normal', 'Completed', 'Job completed', SOURCE);
    } else if (!spec.suspend) {
      const want = Math.min(parallelism, completions - succeeded) - active.length;
      if (want > 0) {
        // Back off after failures: 10 s, 20 s, 40 s ... from the last failure.
        const lastFailure = failedPods.reduce((m, p) => Math.max(m, finishedAt(p) ?? 0), 0);
        const delay = failed > 0 ? Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (failed - 1)) : 0;
        if (failed > 0 && lastFailure + delay > nowMs) {
          ctx.enqueueAfter('job', ns, name, lastFailure + delay - nowMs);
        } else {
          for (let i = 0; i < want; i++) if (createPod(ctx, job, spec.template ?? {}, SOURCE.component)) activeCount++;
        }
      }
      if (deadline !== undefined && started !== undefined) ctx.enqueueAfter('job', ns, name, started + deadline * 1000 - nowMs);
    }
  }

  const next: JobStatus = omitZero({
    ...(conditions.length ? { conditions } : {}),
    startTime,
    completionTime,
    active: jobFinished({ ...job, status: { conditions } } as KubeObject) ? 0 : activeCount,
    succeeded,
    failed,
    ready: active.filter(podIsReady).length,
    terminating: 0,
    uncountedTerminatedPods: {},
  } as JobStatus & Record<string, unknown>, ['ready', 'terminating']);
  if (deepEqual(next, prev)) return;
  ctx.store.modify('jobs.batch', ns, name, (draft) => {
    draft.status = next;
  }, { subresource: 'status' });
}

/** With restartPolicy OnFailure, container restarts count against backoffLimit (as in Kubernetes). */
function restartsOnFailure(spec: JobSpec, active: KubeObject[]): number {
  if ((spec.template?.spec?.restartPolicy ?? 'Never') !== 'OnFailure') return 0;
  let n = 0;
  for (const p of active) for (const c of status<{ containerStatuses?: { restartCount?: number }[] }>(p).containerStatuses ?? []) n += c.restartCount ?? 0;
  return n;
}

function finishedAt(p: KubeObject): number | undefined {
  const cs = status<{ containerStatuses?: { state?: { terminated?: { finishedAt?: string } } }[] }>(p).containerStatuses ?? [];
  let t: number | undefined;
  for (const c of cs) {
    const f = parseTime(c.state?.terminated?.finishedAt);
    if (f !== undefined && (t === undefined || f > t)) t = f;
  }
  return t;
}
