// Lease arithmetic (pure): who holds a coordination.k8s.io/v1 Lease and until when, and the objects a
// driver writes to take, renew or release it.
import type { KubeObject } from './ports';

export interface LeaseState {
  holder: string;
  renewedAt: number;
  expiresAt: number;
}

/** Lease MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function leaseState(lease: KubeObject | undefined): LeaseState | undefined {
  const s = lease?.spec as { holderIdentity?: string; renewTime?: string; acquireTime?: string; leaseDurationSeconds?: number } | undefined;
  if (!s?.holderIdentity) return undefined;
  const renewedAt = Date.parse(s.renewTime ?? s.acquireTime ?? '') || 0;
  return { holder: s.holderIdentity, renewedAt, expiresAt: renewedAt + (s.leaseDurationSeconds ?? 15) * 1000 };
}

/** Whether `me` may take the lease now (free, expired, or already mine). */
export function canTake(lease: KubeObject | undefined, me: string, now: number): boolean {
  const st = leaseState(lease);
  return !st || st.holder === me || st.expiresAt <= now;
}

export function leaseObject(name: string, namespace: string, labels: Record<string, string>, me: string, now: number, durationMs: number, prev?: KubeObject): KubeObject {
  const prevSpec = (prev?.spec ?? {}) as { holderIdentity?: string; leaseTransitions?: number; acquireTime?: string };
  const changed = prevSpec.holderIdentity !== me;
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { ...(prev?.metadata ?? {}), name, namespace, labels: { ...(prev?.metadata.labels ?? {}), ...labels } },
    spec: {
      holderIdentity: me,
      leaseDurationSeconds: Math.max(1, Math.round(durationMs / 1000)),
      acquireTime: changed || !prevSpec.acquireTime ? microTime(now) : prevSpec.acquireTime,
      renewTime: microTime(now),
      leaseTransitions: (prevSpec.leaseTransitions ?? 0) + (changed && prevSpec.holderIdentity ? 1 : 0),
    },
  };
}

export function releasedLease(prev: KubeObject, now: number): KubeObject {
  return { ...prev, spec: { ...prev.spec, holderIdentity: '', renewTime: microTime(now) } };
}
