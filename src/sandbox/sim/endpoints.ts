// The Endpoints controller: for every Service with a selector, an Endpoints object of the same name
// listing the selected pods' IPs, ready ones under `addresses` and the others under
// `notReadyAddresses`, with the Service's ports resolved against the pods' named container ports.
import type { KubeObject, Store } from '../api/store';
import { deepEqual } from '../api/json';
import type { ControllerContext } from './controllers';
import { type Container, podIsReady, podIsTerminal, status } from './k8s';
import { labelSelectorFromLabels } from '../api/selectors';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}

export function serviceSelector(svc: KubeObject): Record<string, string> | undefined {
  const sel = (svc.spec as { selector?: Record<string, string> } | undefined)?.selector;
  return sel && Object.keys(sel).length ? sel : undefined;
}

/** Names of Services in `ns` whose selector matches any of the given pods. */
export function servicesSelecting(services: Iterable<KubeObject>, pods: (KubeObject | undefined)[]): string[] {
  const live = pods.filter((p): p is KubeObject => Boolean(p));
  if (!live.length) return [];
  const out: string[] = [];
  for (const svc of services) {
    const sel = serviceSelector(svc);
    if (!sel) continue;
    if (live.some((p) => matchesMap(sel, p.metadata.labels))) out.push(svc.metadata.name!);
  }
  return out;
}

export function matchesMap(sel: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  for (const [k, v] of Object.entries(sel)) if (labels?.[k] !== v) return false;
  return true;
}

/** Pods a Service selects (non-terminal), in name order. */
export function podsForService(store: Store, svc: KubeObject): KubeObject[] {
  const sel = serviceSelector(svc);
  if (!sel) return [];
  return store.list('pods', svc.metadata.namespace, { labelSelector: labelSelectorFromLabels(sel) }).items.filter((p) => !podIsTerminal(p));
}

export function syncEndpoints(ctx: ControllerContext, ns: string, name: string): void {
  const svc = ctx.store.tryGet('services', ns, name);
  const existing = ctx.store.tryGet('endpoints', ns, name);
  if (!svc) {
    // The Service is gone: its Endpoints go too (only the ones we manage).
    if (existing?.metadata.labels?.['endpoints.kubernetes.io/managed-by'] === 'endpoint-controller') {
      try {
        ctx.store.delete('endpoints', ns, name);
      } catch {}
    }
    return;
  }
  const sel = serviceSelector(svc);
  if (!sel) return; // selector-less Services have user-managed Endpoints
  const pods = [...ctx.podsByNs.in(ns)].filter((p) => !podIsTerminal(p) && matchesMap(sel, p.metadata.labels));
  const ports = ((svc.spec as { ports?: ServicePort[] } | undefined)?.ports ?? []);
  const ready: Record<string, unknown>[] = [];
  const notReady: Record<string, unknown>[] = [];
  let resolved: Record<string, unknown>[] | undefined;
  for (const p of pods) {
    const ip = status<{ podIP?: string }>(p).podIP;
    if (!ip || p.metadata.deletionTimestamp) continue;
    const address = {
      ip,
      nodeName: (p.spec as { nodeName?: string } | undefined)?.nodeName,
      targetRef: { kind: 'Pod', namespace: ns, name: p.metadata.name, uid: p.metadata.uid },
    };
    (podIsReady(p) ? ready : notReady).push(address);
    resolved ??= resolvePorts(ports, p);
  }
  const byIp = (a: Record<string, unknown>, b: Record<string, unknown>) => String(a.ip).localeCompare(String(b.ip));
  ready.sort(byIp);
  notReady.sort(byIp);
  const subsets = ready.length || notReady.length
    ? [{ ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ports: resolved ?? [] }]
    : undefined;
  const labels = { ...(svc.metadata.labels ?? {}), 'endpoints.kubernetes.io/managed-by': 'endpoint-controller' };
  if (!existing) {
    try {
      ctx.store.create('endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns, labels }, ...(subsets ? { subsets } : {}) });
    } catch {}
    return;
  }
  if (deepEqual(existing.subsets, subsets) && deepEqual(existing.metadata.labels, labels)) return;
  ctx.store.modify('endpoints', ns, name, (draft) => {
    draft.metadata.labels = labels;
    if (subsets) draft.subsets = subsets;
    else delete draft.subsets;
  });
}

function resolvePorts(ports: ServicePort[], pod: KubeObject): Record<string, unknown>[] {
  const containers = ((pod.spec as { containers?: Container[] } | undefined)?.containers ?? []);
  return ports.map((sp) => {
    let port = typeof sp.targetPort === 'number' ? sp.targetPort : sp.port;
    if (typeof sp.targetPort === 'string') {
      const n = Number(sp.targetPort);
      if (Number.isInteger(n)) port = n;
      else {
        for (const c of containers) {
          const hit = c.ports?.find((cp) => cp.name === sp.targetPort);
          if (hit) port = hit.containerPort;
        }
      }
    }
    return { ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' };
  });
}
