// Simulated user traffic. Every tick, each *entry point* receives its share of requests, which are
// routed through what is in the store, the way the real data plane would:
// - Gateway API HTTPRoute: backendRefs by weight (default 1, 0 = none)
// - ingress-nginx: a primary Ingress, plus a canary Ingress for the same host/path annotated
//   `nginx.ingress.kubernetes.io/canary: "true"` taking `canary-weight` percent
// - Istio VirtualService (hosts naming a Service): http[0].route destinations by weight, subsets from
//   the DestinationRule for that host (subset labels AND the Service selector)
// - SMI TrafficSplit: backends by weight
// - plain Services: their selector, i.e. replica ratios
// Each request lands on a READY pod chosen uniformly among the destination's pods; that pod's image
// behaviour decides its status code and latency, recorded in the pod's metrics. Deterministic for a
// given seed. Entry points: each HTTPRoute, primary Ingress, VirtualService and TrafficSplit, and each
// Service that is none of: a backend of one of those, a narrower copy of another Service's selector
// (e.g. `web-canary` selecting `app=web,track=canary` next to `web`), named `*-preview`, labelled
// `kube-delivery.dev/managed-by` (the engine's per-version Services), or annotated
// `sandbox.kube-delivery.dev/traffic: "none"`. `sandbox.kube-delivery.dev/rps: "N"` on the entry sets
// its rate.
import type { KubeObject, Store } from '../api/store';
import type { BehaviourTable } from './behaviour';
import { sampleLatencyMs } from './behaviour';
import type { Random } from './random';
import { controllerOf, podIsReady, podIsTerminal } from './k8s';
import { matchesMap, serviceSelector } from './endpoints';
import { imageTag } from './behaviour';
import type { MetricsRegistry, PodIdentity } from './metrics';

export const RPS_ANNOTATION = 'sandbox.kube-delivery.dev/rps';
/**
 * Requests per second per entry point unless set: a modest production service. Enough that a 5% canary
 * gets about 150 requests a minute, over analysis' default minRequests (100), so a demo's checks judge.
 */
export const DEFAULT_RPS = 50;
export const TRAFFIC_ANNOTATION = 'sandbox.kube-delivery.dev/traffic';
/** The label Kube Delivery puts on everything it creates. */
export const MANAGED_BY_LABEL = 'kube-delivery.dev/managed-by';
const CANARY = 'nginx.ingress.kubernetes.io/canary';
const CANARY_WEIGHT = 'nginx.ingress.kubernetes.io/canary-weight';
/** Namespaces that never get synthetic traffic. */
const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease', 'monitoring']);

export interface Destination {
  service: string;
  /** Extra labels pods must carry (Istio subset). */
  subsetLabels?: Record<string, string>;
  weight: number;
}

export interface EntryPoint {
  /** `kind/namespace/name` of what receives the traffic. */
  id: string;
  namespace: string;
  rps: number;
  destinations: Destination[];
}

interface RouteSources {
  services: KubeObject[];
  httpRoutes: KubeObject[];
  ingresses: KubeObject[];
  virtualServices: KubeObject[];
  destinationRules: KubeObject[];
  trafficSplits: KubeObject[];
}

function rpsOf(o: KubeObject, fallback: number): number {
  const a = o.metadata.annotations?.[RPS_ANNOTATION];
  const n = a === undefined ? NaN : Number(a);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

/** Service name a host refers to from namespace `ns` (`web`, `web.ns`, `web.ns.svc.cluster.local`). */
export function hostToService(host: string, ns: string): string | undefined {
  const parts = host.split('.');
  if (parts.length === 1) return parts[0];
  if (parts[1] === ns && (parts.length === 2 || parts.slice(2).join('.').startsWith('svc'))) return parts[0];
  return undefined;
}

function isSubset(small: Record<string, string>, big: Record<string, string>): boolean {
  return Object.entries(small).every(([k, v]) => big[k] === v);
}

/** Works out the traffic entry points of one namespace from its routing objects. Pure. */
export function entryPoints(ns: string, src: RouteSources, defaultRps: number): EntryPoint[] {
  const out: EntryPoint[] = [];
  const backends = new Set<string>();
  const svcByName = new Map(src.services.map((s) => [s.metadata.name!, s]));

  for (const r of src.httpRoutes) {
    type Rule = { matches?: { path?: { type?: string; value?: string }; headers?: unknown[] }[]; backendRefs?: { name: string; namespace?: string; kind?: string; weight?: number }[] };
    const rules = ((r.spec as { rules?: Rule[] } | undefined)?.rules ?? []);
    // Plain user traffic takes the catch-all rule: no matches, or a `/` prefix without header matches.
    const catchAll = (rule: Rule) => !rule.matches?.length || rule.matches.some((m) => !m.headers?.length && (!m.path || (m.path.type !== 'Exact' && (m.path.value ?? '/') === '/')));
    const chosen = rules.find(catchAll) ?? rules[0];
    const dests: Destination[] = [];
    for (const rule of rules) {
      for (const b of rule.backendRefs ?? []) {
        if ((b.kind ?? 'Service') !== 'Service' || (b.namespace && b.namespace !== ns)) continue;
        backends.add(b.name);
        if (rule === chosen) dests.push({ service: b.name, weight: b.weight ?? 1 });
      }
    }
    out.push({ id: `httproute/${ns}/${r.metadata.name}`, namespace: ns, rps: rpsOf(r, defaultRps), destinations: dests });
  }

  type IngressBackend = { host: string; path: string; service: string };
  const ingressBackends = (ing: KubeObject): IngressBackend[] => {
    const rules = ((ing.spec as { rules?: { host?: string; http?: { paths?: { path?: string; backend?: { service?: { name?: string } } }[] } }[] } | undefined)?.rules ?? []);
    const res: IngressBackend[] = [];
    for (const rule of rules) for (const p of rule.http?.paths ?? []) if (p.backend?.service?.name) res.push({ host: rule.host ?? '', path: p.path ?? '/', service: p.backend.service.name });
    return res;
  };
  const canaries = src.ingresses.filter((i) => i.metadata.annotations?.[CANARY] === 'true');
  for (const ing of src.ingresses) {
    if (ing.metadata.annotations?.[CANARY] === 'true') continue;
    for (const b of ingressBackends(ing)) {
      backends.add(b.service);
      const dests: Destination[] = [];
      let canaryWeight = 0;
      for (const c of canaries) {
        const hit = ingressBackends(c).find((cb) => cb.host === b.host && cb.path === b.path);
        if (!hit) continue;
        const w = Math.max(0, Math.min(100, Number(c.metadata.annotations?.[CANARY_WEIGHT] ?? '0') || 0));
        backends.add(hit.service);
        dests.push({ service: hit.service, weight: w });
        canaryWeight = w;
        break;
      }
      dests.unshift({ service: b.service, weight: 100 - canaryWeight });
      out.push({ id: `ingress/${ns}/${ing.metadata.name}/${b.host}${b.path}`, namespace: ns, rps: rpsOf(ing, defaultRps), destinations: dests });
    }
  }

  const subsetLabels = (host: string, subset: string | undefined): Record<string, string> | undefined => {
    if (!subset) return undefined;
    const svc = hostToService(host, ns);
    for (const dr of src.destinationRules) {
      const spec = (dr.spec ?? {}) as { host?: string; subsets?: { name: string; labels?: Record<string, string> }[] };
      if (!spec.host || hostToService(spec.host, ns) !== svc) continue;
      const s = spec.subsets?.find((x) => x.name === subset);
      if (s) return s.labels ?? {};
    }
    // An unknown subset routes nowhere (Istio answers 503).
    return { 'sandbox.kube-delivery.dev/no-such-subset': subset };
  };
  const vsHosted = new Set<string>();
  for (const vs of src.virtualServices) {
    const spec = (vs.spec ?? {}) as { hosts?: string[]; http?: { match?: unknown[]; route?: { destination?: { host?: string; subset?: string }; weight?: number }[] }[] };
    // Plain user traffic takes the first route without match conditions (Istio's default route).
    const route = (spec.http?.find((h) => !h.match?.length) ?? spec.http?.[0])?.route ?? [];
    const dests: Destination[] = [];
    for (const r of route) {
      const host = r.destination?.host;
      const svc = host ? hostToService(host, ns) : undefined;
      if (!svc) continue;
      dests.push({ service: svc, subsetLabels: subsetLabels(host!, r.destination?.subset), weight: r.weight ?? (route.length === 1 ? 100 : 0) });
    }
    const hostSvc = (spec.hosts ?? []).map((h) => hostToService(h, ns)).find((s) => s && svcByName.has(s));
    for (const d of dests) if (d.service !== hostSvc) backends.add(d.service);
    if (hostSvc) vsHosted.add(hostSvc);
    const rps = hostSvc ? rpsOf(svcByName.get(hostSvc)!, rpsOf(vs, defaultRps)) : rpsOf(vs, defaultRps);
    out.push({ id: `virtualservice/${ns}/${vs.metadata.name}`, namespace: ns, rps, destinations: dests });
  }

  for (const ts of src.trafficSplits) {
    const spec = (ts.spec ?? {}) as { service?: string; backends?: { service: string; weight?: number }[] };
    const dests = (spec.backends ?? []).map((b) => ({ service: b.service, weight: b.weight ?? 0 }));
    for (const d of dests) backends.add(d.service);
    if (spec.service) vsHosted.add(spec.service);
    out.push({ id: `trafficsplit/${ns}/${ts.metadata.name}`, namespace: ns, rps: rpsOf(ts, defaultRps), destinations: dests });
  }

  for (const svc of src.services) {
    const name = svc.metadata.name!;
    const sel = serviceSelector(svc);
    if (!sel || vsHosted.has(name) || backends.has(name)) continue;
    if (name.endsWith('-preview') || svc.metadata.annotations?.[TRAFFIC_ANNOTATION] === 'none') continue;
    // Per-version helper Services Kube Delivery creates (canary, baseline, preview) are reached by tests
    // and routes, never by users directly.
    if (svc.metadata.labels?.[MANAGED_BY_LABEL] !== undefined) continue;
    const narrower = src.services.some((o) => {
      const os = serviceSelector(o);
      return o !== svc && os && Object.keys(os).length < Object.keys(sel).length && isSubset(os, sel);
    });
    if (narrower) continue;
    out.push({ id: `service/${ns}/${name}`, namespace: ns, rps: rpsOf(svc, defaultRps), destinations: [{ service: name, weight: 1 }] });
  }
  return out.sort((a, b) => a.id.localeCompare(b.id));
}

export interface TrafficOptions {
  store: Store;
  behaviour: BehaviourTable;
  metrics: MetricsRegistry;
  random: Random;
  /** Requests per second per entry point (default 20). */
  rps?: number;
  /** Pods of a namespace (an index kept by the controllers; default: a store list). */
  podsIn?: (ns: string) => Iterable<KubeObject>;
  /** Optional request-log sink (the kubelet's log ring). */
  logRequest?: (podUid: string, t: number, line: string) => void;
}

export interface TickResult {
  requests: number;
  /** Requests with no ready pod to go to (not counted in pod metrics, as a real app would not see them). */
  unrouted: number;
  /** Requests per pod name, for tests and the admin endpoint. */
  perPod: Map<string, number>;
}

export class TrafficSimulator {
  rps: number;
  private carry = new Map<string, number>();
  private dirty = true;
  private entries: EntryPoint[] = [];
  private readonly unsubscribe: () => void;
  private readonly identities = new Map<string, PodIdentity>();
  private readonly lastLogged = new Map<string, number>();
  private readonly routingKinds = new Set(['services', 'pods', 'httproutes.gateway.networking.k8s.io', 'ingresses.networking.k8s.io', 'virtualservices.networking.istio.io', 'destinationrules.networking.istio.io', 'trafficsplits.split.smi-spec.io', 'replicasets.apps']);

  constructor(private readonly o: TrafficOptions) {
    this.rps = o.rps ?? DEFAULT_RPS;
    this.unsubscribe = o.store.onChange((e) => {
      if (this.routingKinds.has(e.resource)) this.dirty = true;
      // Labels may change (relabelled pods); identities are cheap to rebuild.
      if (e.resource === 'pods' && e.type !== 'ADDED') this.identities.delete(e.object.metadata.uid!);
      if (e.resource === 'pods' && e.type === 'DELETED') this.lastLogged.delete(e.object.metadata.uid!);
    });
  }

  stop(): void {
    this.unsubscribe();
  }

  /** Sets the default rate per entry point (entries without their own annotation). */
  setRps(rps: number): void {
    this.rps = rps;
    this.dirty = true;
  }

  /** The current entry points (recomputed when routing objects changed). */
  entryPoints(): EntryPoint[] {
    if (!this.dirty) return this.entries;
    const { store } = this.o;
    const byNs = new Map<string, RouteSources>();
    const add = (key: keyof RouteSources, resource: string) => {
      for (const o of store.list(resource).items) {
        const ns = o.metadata.namespace ?? '';
        if (SYSTEM_NAMESPACES.has(ns)) continue;
        let s = byNs.get(ns);
        if (!s) byNs.set(ns, (s = { services: [], httpRoutes: [], ingresses: [], virtualServices: [], destinationRules: [], trafficSplits: [] }));
        s[key].push(o);
      }
    };
    add('services', 'services');
    add('httpRoutes', 'httproutes.gateway.networking.k8s.io');
    add('ingresses', 'ingresses.networking.k8s.io');
    add('virtualServices', 'virtualservices.networking.istio.io');
    add('destinationRules', 'destinationrules.networking.istio.io');
    add('trafficSplits', 'trafficsplits.split.smi-spec.io');
    this.entries = [...byNs.entries()].sort(([a], [b]) => a.localeCompare(b)).flatMap(([ns, src]) => entryPoints(ns, src, this.rps));
    this.dirty = false;
    return this.entries;
  }

  /** Simulates `ms` worth of traffic ending at time `t`. */
  tick(t: number, ms: number): TickResult {
    const result: TickResult = { requests: 0, unrouted: 0, perPod: new Map() };
    const { store, random } = this.o;
    const podsCache = new Map<string, KubeObject[]>();
    const podsOf = (ns: string, service: string, subset?: Record<string, string>): KubeObject[] => {
      const key = `${ns}/${service}/${subset ? JSON.stringify(subset) : ''}`;
      let hit = podsCache.get(key);
      if (hit) return hit;
      const svc = store.tryGet('services', ns, service);
      const sel = svc ? serviceSelector(svc) : undefined;
      hit = sel
        ? [...(this.o.podsIn?.(ns) ?? store.list('pods', ns).items)]
            .filter((p) => !podIsTerminal(p) && podIsReady(p) && matchesMap(sel, p.metadata.labels) && (!subset || matchesMap(subset, p.metadata.labels)))
            .sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : 1))
        : [];
      podsCache.set(key, hit);
      return hit;
    };
    for (const e of this.entryPoints()) {
      const exact = (e.rps * ms) / 1000 + (this.carry.get(e.id) ?? 0);
      const n = Math.floor(exact);
      this.carry.set(e.id, exact - n);
      const total = e.destinations.reduce((s, d) => s + Math.max(0, d.weight), 0);
      if (n === 0) continue;
      for (let i = 0; i < n; i++) {
        result.requests++;
        if (total <= 0) {
          result.unrouted++;
          continue;
        }
        let pick = random.next() * total;
        let dest = e.destinations[0];
        for (const d of e.destinations) {
          if (d.weight <= 0) continue;
          dest = d;
          pick -= d.weight;
          if (pick < 0) break;
        }
        const pods = podsOf(e.namespace, dest.service, dest.subsetLabels);
        if (!pods.length) {
          result.unrouted++;
          continue;
        }
        const pod = pods[random.int(pods.length)];
        this.serve(pod, dest.service, t - ms + Math.floor(((i + 0.5) * ms) / n), result);
      }
    }
    return result;
  }

  private serve(pod: KubeObject, service: string, at: number, result: TickResult): void {
    const containers = ((pod.spec as { containers?: { image: string }[] } | undefined)?.containers ?? []);
    const image = containers[0]?.image ?? '';
    const b = this.o.behaviour.forImage(image);
    const code = this.o.random.next() < b.errorRate ? b.errorCode : 200;
    const latencyMs = sampleLatencyMs(b, () => this.o.random.normal());
    const id = this.identity(pod, image);
    this.o.metrics.observe(id, service, code, latencyMs / 1000);
    result.perPod.set(pod.metadata.name!, (result.perPod.get(pod.metadata.name!) ?? 0) + 1);
    // Log every error and about one request per pod per second (a sample is enough for `kubectl logs`).
    if (this.o.logRequest && (code !== 200 || at - (this.lastLogged.get(id.uid) ?? -Infinity) >= 1000)) {
      this.lastLogged.set(id.uid, at);
      this.o.logRequest(pod.metadata.uid!, at, `${new Date(at).toISOString()} GET /api/v1/items ${code} ${latencyMs.toFixed(1)}ms`);
    }
  }

  private identity(pod: KubeObject, image: string): PodIdentity {
    const uid = pod.metadata.uid!;
    const cached = this.identities.get(uid);
    if (cached) return cached;
    const labels = pod.metadata.labels ?? {};
    let deployment: string | undefined;
    const owner = controllerOf(pod);
    if (owner?.kind === 'ReplicaSet') {
      const rs = this.o.store.tryGet('replicasets.apps', pod.metadata.namespace, owner.name);
      const dOwner = rs ? controllerOf(rs) : undefined;
      deployment = dOwner?.kind === 'Deployment' ? dOwner.name : undefined;
    }
    const id: PodIdentity = {
      uid,
      namespace: pod.metadata.namespace!,
      pod: pod.metadata.name!,
      deployment,
      version: labels.version ?? labels['app.kubernetes.io/version'] ?? (image ? imageTag(image) : undefined),
      track: labels.track ?? labels['kube-delivery.dev/track'],
      podLabels: labels,
    };
    this.identities.set(uid, id);
    return id;
  }
}
