import assert from 'node:assert/strict';
import { Store, type KubeObject } from '../../../../src/sandbox/api/store';
import type { Clock, TimerHandle } from '../../../../src/sandbox/sim/clock';
import { MAX_TRAFFIC_CATCH_UP_MS, Simulation } from '../../../../src/sandbox/sim/sim';
import { entryPoints, hostToService } from '../../../../src/sandbox/sim/traffic';
import { harness, withHarness, namespace, deployment, service, podsOf, type Harness } from './helpers';

const obj = (kind: string, apiVersion: string, ns: string, name: string, spec: unknown, annotations?: Record<string, string>): KubeObject => ({
  apiVersion,
  kind,
  metadata: { name, namespace: ns, ...(annotations ? { annotations } : {}) },
  spec,
});

/** Two versions of an app: `<app>` (track stable, 3 pods) and `<app>-canary` (track canary, 1 pod). */
function twoVersions(h: Harness, ns: string, app: string, extra: { stable?: Record<string, string>; canary?: Record<string, string> } = {}): void {
  namespace(h.store, ns);
  h.store.create('deployments.apps', deployment({ ns, name: app, replicas: 3, labels: { app, track: 'stable', ...(extra.stable ?? {}) }, image: `${app}:1.0` }));
  h.store.create('deployments.apps', deployment({ ns, name: `${app}-canary`, replicas: 1, labels: { app, track: 'canary', ...(extra.canary ?? {}) }, image: `${app}:2.0` }));
}

async function ready(h: Harness, ns: string, n: number): Promise<void> {
  const ok = await h.clock.advanceUntil(() => podsOf(h.store, ns, {}).filter((p) => (p.status as { conditions?: { type: string; status: string }[] })?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === n, 60_000);
  assert.ok(ok, `${n} ready pods in ${ns}`);
}

/** Share of requests per pod track over a 20 s tick at 500 rps per entry point. */
function shares(h: Harness, ns: string): Record<string, number> {
  h.sim.traffic.setRps(500);
  const r = h.sim.traffic.tick(h.clock.now(), 20_000);
  h.sim.traffic.setRps(0);
  const byTrack: Record<string, number> = {};
  let total = 0;
  for (const [pod, n] of r.perPod) {
    const p = h.store.tryGet('pods', ns, pod);
    if (!p) continue;
    const key = p.metadata.labels?.track ?? p.metadata.labels?.color ?? '?';
    byTrack[key] = (byTrack[key] ?? 0) + n;
    total += n;
  }
  for (const k of Object.keys(byTrack)) byTrack[k] = byTrack[k] / total;
  return byTrack;
}

const near = (actual: number | undefined, expected: number, tol = 0.03) => assert.ok(actual !== undefined && Math.abs(actual - expected) <= tol, `${actual} ≈ ${expected} ± ${tol}`);

describe('sandbox traffic routing', () => {
  let h: Harness;
  withHarness((x) => (h = x));

  it('maps hosts to Services like Istio does', () => {
    assert.equal(hostToService('web', 'a'), 'web');
    assert.equal(hostToService('web.a', 'a'), 'web');
    assert.equal(hostToService('web.a.svc.cluster.local', 'a'), 'web');
    assert.equal(hostToService('web.b.svc.cluster.local', 'a'), undefined);
    assert.equal(hostToService('shop.example.com', 'a'), undefined);
  });

  it('entry points: backends and narrower or preview Services get no stream of their own', () => {
    const svc = (name: string, selector: Record<string, string>, ann?: Record<string, string>, labels?: Record<string, string>) => ({ ...service('a', name, selector), metadata: { name, namespace: 'a', ...(ann ? { annotations: ann } : {}), ...(labels ? { labels } : {}) } });
    const eps = entryPoints(
      'a',
      {
        services: [svc('web', { app: 'web' }), svc('web-canary', { app: 'web', track: 'canary' }), svc('profile', { app: 'profile', color: 'blue' }), svc('profile-preview', { app: 'profile', color: 'green' }), svc('quiet', { app: 'q' }, { 'sandbox.kube-delivery.dev/traffic': 'none' }), svc('s1', { app: 's', v: '1' }), svc('s2', { app: 's', v: '2' }), svc('web-canary2', { 'kube-delivery.dev/pipeline': 'web', 'kube-delivery.dev/track': 'canary' }, undefined, { 'kube-delivery.dev/managed-by': 'kube-delivery' })],
        httpRoutes: [obj('HTTPRoute', 'gateway.networking.k8s.io/v1', 'a', 'search', { rules: [{ backendRefs: [{ name: 's1', weight: 3 }, { name: 's2' }] }] }, { 'sandbox.kube-delivery.dev/rps': '7' })],
        ingresses: [],
        virtualServices: [],
        destinationRules: [],
        trafficSplits: [],
      },
      20,
    );
    assert.deepEqual(eps.map((e) => [e.id, e.rps]), [['httproute/a/search', 7], ['service/a/profile', 20], ['service/a/web', 20]]);
    assert.deepEqual(eps[0].destinations, [{ service: 's1', weight: 3 }, { service: 's2', weight: 1 }]);
  });

  it('plain Service: replica ratios (3 stable : 1 canary)', async () => {
    twoVersions(h, 'rep', 'web');
    h.store.create('services', service('rep', 'web', { app: 'web' }));
    await ready(h, 'rep', 4);
    const s = shares(h, 'rep');
    near(s.stable, 0.75);
    near(s.canary, 0.25);
  });

  it('Istio VirtualService weights with DestinationRule subsets (90/10)', async () => {
    twoVersions(h, 'istio', 'pay');
    h.store.create('services', service('istio', 'pay', { app: 'pay' }));
    h.store.create('destinationrules.networking.istio.io', obj('DestinationRule', 'networking.istio.io/v1beta1', 'istio', 'pay', { host: 'pay', subsets: [{ name: 'stable', labels: { track: 'stable' } }, { name: 'canary', labels: { track: 'canary' } }] }));
    h.store.create('virtualservices.networking.istio.io', obj('VirtualService', 'networking.istio.io/v1beta1', 'istio', 'pay', { hosts: ['pay'], http: [{ match: [{ headers: { 'x-canary': { exact: 'always' } } }], route: [{ destination: { host: 'pay', subset: 'canary' } }] }, { route: [{ destination: { host: 'pay', subset: 'stable' }, weight: 90 }, { destination: { host: 'pay.istio.svc.cluster.local', subset: 'canary' }, weight: 10 }] }] }));
    await ready(h, 'istio', 4);
    const s = shares(h, 'istio');
    near(s.stable, 0.9);
    near(s.canary, 0.1);
    // Moving the weights moves the traffic.
    h.store.modify('virtualservices.networking.istio.io', 'istio', 'pay', (vs) => {
      const route = (vs.spec as { http: { route: { weight: number }[] }[] }).http[1].route;
      route[0].weight = 0;
      route[1].weight = 100;
    });
    assert.deepEqual(shares(h, 'istio'), { canary: 1 });
  });

  it('Gateway API HTTPRoute backendRefs weights (80/20)', async () => {
    twoVersions(h, 'gw', 'search');
    h.store.create('services', service('gw', 'search-stable', { app: 'search', track: 'stable' }));
    h.store.create('services', service('gw', 'search-canary', { app: 'search', track: 'canary' }));
    h.store.create('httproutes.gateway.networking.k8s.io', obj('HTTPRoute', 'gateway.networking.k8s.io/v1', 'gw', 'search', { parentRefs: [{ name: 'public' }], rules: [{ matches: [{ headers: [{ name: 'x-canary', value: 'always' }] }], backendRefs: [{ name: 'search-canary', port: 80 }] }, { backendRefs: [{ name: 'search-stable', port: 80, weight: 80 }, { name: 'search-canary', port: 80, weight: 20 }] }] }));
    await ready(h, 'gw', 4);
    const s = shares(h, 'gw');
    near(s.stable, 0.8);
    near(s.canary, 0.2);
  });

  it('ingress-nginx canary Ingress weight (30%)', async () => {
    twoVersions(h, 'ngx', 'shop');
    h.store.create('services', service('ngx', 'shop', { app: 'shop', track: 'stable' }));
    h.store.create('services', service('ngx', 'shop-canary', { app: 'shop', track: 'canary' }));
    const rule = (svc: string) => ({ rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: svc, port: { number: 80 } } } }] } }] });
    h.store.create('ingresses.networking.k8s.io', obj('Ingress', 'networking.k8s.io/v1', 'ngx', 'shop', rule('shop')));
    h.store.create('ingresses.networking.k8s.io', obj('Ingress', 'networking.k8s.io/v1', 'ngx', 'shop-canary', rule('shop-canary'), { 'nginx.ingress.kubernetes.io/canary': 'true', 'nginx.ingress.kubernetes.io/canary-weight': '30' }));
    await ready(h, 'ngx', 4);
    const s = shares(h, 'ngx');
    near(s.stable, 0.7);
    near(s.canary, 0.3);
  });

  it('blue-green: the active Service selector decides, the preview gets no live stream', async () => {
    namespace(h.store, 'bg');
    h.store.create('deployments.apps', deployment({ ns: 'bg', name: 'profile-blue', replicas: 2, labels: { app: 'profile', color: 'blue' } }));
    h.store.create('deployments.apps', deployment({ ns: 'bg', name: 'profile-green', replicas: 2, labels: { app: 'profile', color: 'green' } }));
    h.store.create('services', service('bg', 'profile', { app: 'profile', color: 'blue' }));
    h.store.create('services', service('bg', 'profile-preview', { app: 'profile', color: 'green' }));
    await ready(h, 'bg', 4);
    assert.deepEqual(shares(h, 'bg'), { blue: 1 });
    h.store.modify('services', 'bg', 'profile', (s) => void ((s.spec as { selector: Record<string, string> }).selector.color = 'green'));
    assert.deepEqual(shares(h, 'bg'), { green: 1 });
  });

  it('only ready pods get traffic; the same seed gives the same stream', async () => {
    namespace(h.store, 'r');
    h.store.create('deployments.apps', deployment({ ns: 'r', name: 'web', replicas: 2, labels: { app: 'web', track: 'stable' } }));
    h.store.create('deployments.apps', deployment({ ns: 'r', name: 'web-bad', replicas: 2, labels: { app: 'web', track: 'canary' }, image: 'web:2-unready' }));
    h.store.create('services', service('r', 'web', { app: 'web' }));
    await ready(h, 'r', 2);
    await h.clock.advance(10_000);
    assert.deepEqual(shares(h, 'r'), { stable: 1 });

    const run = async () => {
      const x = harness({ randomSeed: 'fixed' });
      twoVersions(x, 'd', 'web');
      x.store.create('services', service('d', 'web', { app: 'web' }));
      await ready(x, 'd', 4);
      x.sim.traffic.setRps(50);
      const r = x.sim.traffic.tick(x.clock.now(), 10_000);
      x.stop();
      return [...r.perPod.entries()].sort();
    };
    assert.deepEqual(await run(), await run());
  });
});

describe('traffic follows the clock when ticks come late', () => {
  /** A real clock's behaviour under load: time moves on, the interval timers fire when they get to. */
  class LateClock implements Clock {
    readonly speed = 150;
    t = Date.UTC(2025, 0, 1);
    readonly intervals: (() => void)[] = [];
    now(): number {
      return this.t;
    }
    setTimeout(): TimerHandle {
      return { id: 0 };
    }
    clearTimeout(): void {}
    setInterval(fn: () => void): TimerHandle {
      this.intervals.push(fn);
      return { id: this.intervals.length };
    }
    clearInterval(): void {}
    sleep(): Promise<void> {
      return new Promise(() => {});
    }
    fireAll(): void {
      for (const f of this.intervals) f();
    }
  }

  it('generates the requests of the clock time that passed, not one tick per timer firing, capped after a long stall', () => {
    const clock = new LateClock();
    const store = new Store({ now: () => clock.now() });
    const sim = new Simulation({ store, clock, trafficRps: 20, prometheus: false });
    const generated: number[] = [];
    const tick = sim.traffic.tick.bind(sim.traffic);
    sim.traffic.tick = (t: number, ms: number) => {
      generated.push(ms);
      return tick(t, ms);
    };
    store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web' } });
    store.create('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } });
    sim.start();
    try {
      // On time, late (3.5 s of clock time between firings, as at --speed 150 with a busy event loop),
      // twice in the same instant, then after an hour's stall.
      for (const step of [1000, 3500, 0, 2500]) {
        clock.t += step;
        clock.fireAll();
      }
      assert.deepEqual(generated, [1000, 3500, 2500]);
      clock.t += 3_600_000;
      clock.fireAll();
      assert.equal(generated.at(-1), MAX_TRAFFIC_CATCH_UP_MS);
    } finally {
      sim.stop();
    }
  });
});
