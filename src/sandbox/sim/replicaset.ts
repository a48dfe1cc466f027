// The ReplicaSet controller: keeps `spec.replicas` pods named `<rs>-<5 chars>` (ownerReference to the
// RS, template labels and spec, a node from the sandbox's three), deletes the least useful pods
// first when scaling down (kube's ActivePods ordering), and reports replicas / ready / available in
// status (available = Ready for minReadySeconds, requeued when that moment comes).
import type { KubeObject } from '../api/store';
import { deepEqual } from '../api/json';
import type { ControllerContext } from './controllers';
import { type PodTemplate, ownerRef, podIsTerminal, podIsReady, podIsAvailable, podAvailableAt, status, parseTime, omitZero } from './k8s';
import { labelSelectorFromLabels, type LabelSelectorObject } from '../api/selectors';

export const NODES = ['sandbox-node-1', 'sandbox-node-2', 'sandbox-node-3'];
const SOURCE = { component: 'replicaset-controller' };
/** Pods created or deleted per sync at most (kube creates in slow-start batches too). */
const BURST = 500;

interface RSSpec {
  replicas?: number;
  minReadySeconds?: number;
  selector?: LabelSelectorObject;
  template?: PodTemplate;
}

export function syncReplicaSet(ctx: ControllerContext, ns: string, name: string): void {
  const rs = ctx.store.tryGet('replicasets.apps', ns, name);
  if (!rs) return;
  const spec = (rs.spec ?? {}) as RSSpec;
  const wanted = spec.replicas ?? 1;
  let pods = activePods(ctx, rs);
  if (!rs.metadata.deletionTimestamp) {
    const diff = pods.length - wanted;
    if (diff < 0) {
      for (let i = 0; i < Math.min(-diff, BURST); i++) createPod(ctx, rs, spec.template ?? {}, SOURCE.component);
    } else if (diff > 0) {
      const victims = [...pods].sort(deletionOrder).slice(0, Math.min(diff, BURST));
      for (const p of victims) {
        try {
          ctx.store.delete('pods', p.metadata.namespace, p.metadata.name!);
          ctx.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, SOURCE);
        } catch {}
      }
    }
    pods = activePods(ctx, rs);
  }
  writeStatus(ctx, rs, pods, spec);
}

function activePods(ctx: ControllerContext, owner: KubeObject): KubeObject[] {
  return ctx.pods.owned(owner.metadata.uid).filter((p) => !podIsTerminal(p) && !p.metadata.deletionTimestamp);
}

let podIpCounter = 0;

/** Creates a pod from a template for a controller (ReplicaSet or Job), on one of the sandbox nodes. */
export function createPod(ctx: ControllerContext, owner: KubeObject, template: PodTemplate, component: string): KubeObject | undefined {
  const ns = owner.metadata.namespace!;
  let name = '';
  for (let i = 0; i < 20; i++) {
    name = `${owner.metadata.name}-${ctx.random.suffix(5)}`;
    if (!ctx.store.tryGet('pods', ns, name)) break;
  }
  const node = NODES[podIpCounter++ % NODES.length];
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ns,
      labels: { ...(template.metadata?.labels ?? {}) },
      ...(template.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec: { ...structuredClone(template.spec ?? {}), nodeName: node },
  };
  try {
    const created = ctx.store.create('pods', pod);
    ctx.pods.update(undefined, created);
    ctx.events.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, { component });
    return created;
  } catch (err) {
    ctx.events.record(owner, 'Warning', 'FailedCreate', `Error creating: ${(err as Error).message}`, { component });
    return undefined;
  }
}

/** kube's controller.ActivePods ordering: the pods to delete first sort first. */
function deletionOrder(a: KubeObject, b: KubeObject): number {
  const nodeA = (a.spec as { nodeName?: string } | undefined)?.nodeName ? 1 : 0;
  const nodeB = (b.spec as { nodeName?: string } | undefined)?.nodeName ? 1 : 0;
  if (nodeA !== nodeB) return nodeA - nodeB;
  const rank = (p: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 } as Record<string, number>)[status<{ phase?: string }>(p).phase ?? 'Pending'] ?? 0;
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  const ra = podIsReady(a) ? 1 : 0;
  const rb = podIsReady(b) ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const restarts = (p: KubeObject) => (status<{ containerStatuses?: { restartCount?: number }[] }>(p).containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  // Newer pods first.
  return (parseTime(b.metadata.creationTimestamp) ?? 0) - (parseTime(a.metadata.creationTimestamp) ?? 0) || (b.metadata.name ?? '').localeCompare(a.metadata.name ?? '');
}

function writeStatus(ctx: ControllerContext, rs: KubeObject, pods: KubeObject[], spec: RSSpec): void {
  const now = ctx.clock.now();
  const minReady = spec.minReadySeconds ?? 0;
  const sel = labelSelectorFromLabels(spec.template?.metadata?.labels);
  let ready = 0;
  let available = 0;
  let fullyLabeled = 0;
  let nextAvailable: number | undefined;
  for (const p of pods) {
    if (sel.matches(p.metadata.labels)) fullyLabeled++;
    if (podIsReady(p)) ready++;
    if (podIsAvailable(p, minReady, now)) available++;
    else {
      const at = podAvailableAt(p, minReady);
      if (at !== undefined && (nextAvailable === undefined || at < nextAvailable)) nextAvailable = at;
    }
  }
  if (nextAvailable !== undefined) ctx.enqueueAfter('replicaset', rs.metadata.namespace!, rs.metadata.name!, Math.max(0, nextAvailable - now) + 1);
  const prev = (rs.status ?? {}) as Record<string, unknown>;
  const next = omitZero(
    {
      replicas: pods.length,
      fullyLabeledReplicas: fullyLabeled,
      readyReplicas: ready,
      availableReplicas: available,
      observedGeneration: rs.metadata.generation,
      ...(prev.conditions ? { conditions: prev.conditions } : {}),
    },
    ['replicas'],
  );
  if (deepEqual(next, prev)) return;
  ctx.store.modify('replicasets.apps', rs.metadata.namespace, rs.metadata.name!, (draft) => {
    draft.status = next;
  }, { subresource: 'status' });
}
