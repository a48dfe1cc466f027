// Shared fixtures for the simulation tests: a store on a manual clock with the simulation running.
import assert from 'node:assert/strict';
import { Store, type KubeObject } from '../../../../src/sandbox/api/store';
import { ManualClock } from '../../../../src/sandbox/sim/clock';
import { Simulation, type SimulationOptions } from '../../../../src/sandbox/sim/sim';

export interface Harness {
  clock: ManualClock;
  store: Store;
  sim: Simulation;
  errors: unknown[];
  stop(): void;
}

export function harness(opts: Partial<SimulationOptions> = {}): Harness {
  const clock = new ManualClock();
  let n = 0;
  const store = new Store({ now: () => clock.now(), uid: () => `uid-${++n}` });
  const errors: unknown[] = [];
  const sim = new Simulation({ store, clock, trafficRps: 0, prometheus: false, onError: (e) => errors.push(e), ...opts });
  sim.start();
  return { clock, store, sim, errors, stop: () => sim.stop() };
}

/**
 * Gives every test of the enclosing describe a fresh harness (with these namespaces), handed over through
 * `set`, and checks after each test that the simulation reported no error. The returned function swaps
 * in a harness with other options for one test (the hooks then stop that one).
 */
export function withHarness(set: (h: Harness) => void, o: { namespaces?: string[] } = {}): (opts?: Partial<SimulationOptions>) => Harness {
  let current: Harness | undefined;
  const start = (opts: Partial<SimulationOptions> = {}): Harness => {
    current?.stop();
    current = harness(opts);
    for (const ns of o.namespaces ?? []) namespace(current.store, ns);
    set(current);
    return current;
  };
  beforeEach(() => void start());
  afterEach(() => {
    const h = current!;
    current = undefined;
    h.stop();
    assert.deepEqual(h.errors, []);
  });
  return start;
}

export function namespace(store: Store, name: string): void {
  if (!store.tryGet('namespaces', undefined, name)) store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
}

export interface DeploymentOpts {
  ns?: string;
  name?: string;
  replicas?: number;
  image?: string;
  labels?: Record<string, string>;
  strategy?: Record<string, unknown>;
  minReadySeconds?: number;
  progressDeadlineSeconds?: number;
  containerName?: string;
}

export function deployment(o: DeploymentOpts = {}): KubeObject {
  const name = o.name ?? 'web';
  const labels = o.labels ?? { app: name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: o.ns ?? 'demo', labels },
    spec: {
      replicas: o.replicas ?? 3,
      selector: { matchLabels: labels },
      ...(o.strategy ? { strategy: o.strategy } : {}),
      ...(o.minReadySeconds !== undefined ? { minReadySeconds: o.minReadySeconds } : {}),
      ...(o.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: o.progressDeadlineSeconds } : {}),
      template: {
        metadata: { labels },
        spec: { containers: [{ name: o.containerName ?? 'app', image: o.image ?? 'registry.example.com/web:1.0.0', ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

export function service(ns: string, name: string, selector: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } };
}

export function setImage(store: Store, ns: string, name: string, image: string): void {
  store.modify('deployments.apps', ns, name, (d) => {
    (d.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0].image = image;
  });
}

export function status<T = Record<string, unknown>>(o: KubeObject | undefined): T {
  return ((o?.status ?? {}) as T);
}

export function condition(o: KubeObject | undefined, type: string): { status: string; reason?: string; message?: string } | undefined {
  return (status<{ conditions?: { type: string; status: string; reason?: string; message?: string }[] }>(o).conditions ?? []).find((c) => c.type === type);
}

/** What `kubectl rollout status` would conclude (kubernetes-api-notes.md, in order). */
export function rolloutState(d: KubeObject | undefined): 'done' | 'waiting' | 'failed' {
  if (!d) return 'waiting';
  const s = status<{ observedGeneration?: number; updatedReplicas?: number; replicas?: number; availableReplicas?: number }>(d);
  if ((d.metadata.generation ?? 0) > (s.observedGeneration ?? 0)) return 'waiting';
  if (condition(d, 'Progressing')?.reason === 'ProgressDeadlineExceeded') return 'failed';
  const want = (d.spec as { replicas?: number }).replicas ?? 1;
  if ((s.updatedReplicas ?? 0) < want) return 'waiting';
  if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return 'waiting';
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return 'waiting';
  return 'done';
}

export function podsOf(store: Store, ns: string, labels: Record<string, string>): KubeObject[] {
  return store.list('pods', ns).items.filter((p) => Object.entries(labels).every(([k, v]) => p.metadata.labels?.[k] === v));
}
