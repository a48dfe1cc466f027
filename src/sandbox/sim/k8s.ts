// Small helpers shared by the simulated controllers: typed views of the objects they touch,
// ownerReferences, conditions and timestamps. The store hands out frozen objects; everything here
// either reads them or builds new plain objects.
import type { KubeObject, OwnerReference } from '../api/store';
import type { LabelSelectorObject } from '../api/selectors';

export type Obj = Record<string, unknown>;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  lastProbeTime?: string | null;
}

export interface Container {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  [k: string]: unknown;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string>; [k: string]: unknown };
  spec?: { containers?: Container[]; restartPolicy?: string; [k: string]: unknown };
}

/** RFC 3339 with second precision, as Kubernetes writes metav1.Time. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function parseTime(s: unknown): number | undefined {
  if (typeof s !== 'string') return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

export function spec<T = Obj>(o: KubeObject): T {
  return (o.spec ?? {}) as T;
}

export function status<T = Obj>(o: KubeObject): T {
  return (o.status ?? {}) as T;
}

export function nsName(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The controller ownerReference of an object, if any. */
export function controllerOf(o: KubeObject): OwnerReference | undefined {
  return o.metadata.ownerReferences?.find((r) => r.controller);
}

export function ownerRef(owner: KubeObject): OwnerReference {
  return { apiVersion: owner.apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

export function getCondition(conds: Condition[] | undefined, type: string): Condition | undefined {
  return conds?.find((c) => c.type === type);
}

/**
 * Sets a condition like the Kubernetes helpers do: an unchanged status keeps its lastTransitionTime;
 * lastUpdateTime (deployments) is always refreshed when given.
 */
export function setCondition(conds: Condition[], next: Condition): Condition[] {
  const i = conds.findIndex((c) => c.type === next.type);
  const cur = i >= 0 ? conds[i] : undefined;
  if (cur && cur.status === next.status && cur.reason === next.reason && cur.message === next.message && next.lastUpdateTime === undefined) return conds;
  const merged: Condition = { ...next };
  if (cur && cur.status === next.status && cur.lastTransitionTime) merged.lastTransitionTime = cur.lastTransitionTime;
  const out = [...conds];
  if (i >= 0) out[i] = merged;
  else out.push(merged);
  return out;
}

export function removeCondition(conds: Condition[], type: string): Condition[] {
  return conds.filter((c) => c.type !== type);
}

export function selectorOf(o: KubeObject): LabelSelectorObject | undefined {
  return (spec(o) as { selector?: LabelSelectorObject }).selector;
}

/** Resolves an int-or-percent (`25%`, 2, "3") against `total`, rounding up or down (intstr.GetScaledValueFromIntOrPercent). */
export function resolveIntOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number') return v;
  const s = String(v).trim();
  if (s.endsWith('%')) {
    const p = Number(s.slice(0, -1));
    if (Number.isNaN(p)) return 0;
    const x = (p * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  const n = Number(s);
  return Number.isNaN(n) ? 0 : n;
}

/** Omits zero counters, as the Go structs do with `omitempty`. */
export function omitZero<T extends Obj>(o: T, keep: string[] = []): T {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (v === 0 && !keep.includes(k)) continue;
    out[k] = v;
  }
  return out as T;
}

export function podIsTerminal(p: KubeObject): boolean {
  const phase = status<{ phase?: string }>(p).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export function podReadyCondition(p: KubeObject): Condition | undefined {
  return getCondition(status<{ conditions?: Condition[] }>(p).conditions, 'Ready');
}

export function podIsReady(p: KubeObject): boolean {
  return podReadyCondition(p)?.status === 'True' && !p.metadata.deletionTimestamp;
}

/** Ready for at least minReadySeconds at `now` (podutil.IsPodAvailable). */
export function podIsAvailable(p: KubeObject, minReadySeconds: number, now: number): boolean {
  if (!podIsReady(p)) return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(podReadyCondition(p)?.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now;
}

/** When a ready pod becomes available (for requeueing), or undefined. */
export function podAvailableAt(p: KubeObject, minReadySeconds: number): number | undefined {
  if (!podIsReady(p)) return undefined;
  const since = parseTime(podReadyCondition(p)?.lastTransitionTime);
  return since === undefined ? undefined : since + minReadySeconds * 1000;
}
