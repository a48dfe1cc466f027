// The simulation as one unit: controllers + kubelet, traffic, metrics and Prometheus, the admin
// endpoint, wired to an API server's hook points (service proxy, pod logs, admin, faults) and
// driven by one clock.
import type http from 'node:http';
import type { KubeObject, Store } from '../api/store';
import type { ApiServer, ServiceProxyTarget } from '../api/server';
import { ApiError } from '../api/errors';
import type { Faults } from '../api/faults';
import { isManualClock, type Clock, type TimerHandle } from './clock';
import { BehaviourTable, sampleLatencyMs, type Behaviour, type BehaviourOverride, type LatencyModel } from './behaviour';
import { createRandom, type Random } from './random';
import { ControllerManager } from './controllers';
import { MetricsRegistry } from './metrics';
import { Tsdb } from './tsdb';
import { DEFAULT_RPS, TrafficSimulator } from './traffic';
import { createPrometheusApi, type PrometheusApi } from './prometheus';
import { createAdminHandler } from './admin';
import { podLogs } from './logs';
import { podsForService } from './endpoints';
import { podIsReady } from './k8s';
import { ensureNodes } from './nodes';
import { instantQuery, type PromResult } from './promql';

export interface BehaviourOptions {
  defaults?: Partial<Omit<Behaviour, 'latency'>> & { latency?: Partial<LatencyModel> };
  overrides?: BehaviourOverride[];
}

/** The most clock time one traffic tick makes up for after the event loop stalled (5 minutes). */
export const MAX_TRAFFIC_CATCH_UP_MS = 5 * 60_000;

export interface SimulationOptions {
  store: Store;
  clock: Clock;
  /** Seed of every random choice (pod names, traffic, latencies). Default 'sandbox'. */
  randomSeed?: string;
  behaviour?: BehaviourOptions;
  /** Requests per second per traffic entry point (default 20; 0 = no traffic). */
  trafficRps?: number;
  /** Traffic tick, clock ms (default 1000). */
  trafficTickMs?: number;
  /** Prometheus scrape interval, clock ms (default 5000). */
  scrapeIntervalMs?: number;
  /** Metrics retention, clock ms (default 1 h). */
  retentionMs?: number;
  /** Write pod lifecycle events (default true). */
  podEvents?: boolean;
  /** Create monitoring/prometheus (Namespace, Deployment, Service). Default true. */
  prometheus?: boolean;
  onError?: (err: unknown, where: string) => void;
  /** How controller work is batched (default: 'immediate' on a real clock, 'microtask' on a manual one). */
  batching?: 'microtask' | 'immediate';
}

export const PROMETHEUS = { namespace: 'monitoring', service: 'prometheus', port: 9090 };

export class Simulation {
  readonly store: Store;
  readonly clock: Clock;
  readonly behaviour: BehaviourTable;
  readonly random: Random;
  readonly controllers: ControllerManager;
  readonly tsdb: Tsdb;
  readonly metrics: MetricsRegistry;
  readonly traffic: TrafficSimulator;
  readonly prometheus: PrometheusApi;
  /** API server fault settings (shared with the server once attached). */
  apiFaults: Faults;
  private readonly timers: TimerHandle[] = [];
  private unsubscribe?: () => void;
  private readonly tickMs: number;
  private readonly scrapeMs: number;
  private started = false;
  /** Clock time the traffic was generated up to. */
  private trafficUntil = 0;

  constructor(private readonly options: SimulationOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.random = createRandom(options.randomSeed ?? 'sandbox');
    this.behaviour = new BehaviourTable(options.behaviour?.defaults, undefined, options.behaviour?.overrides);
    this.controllers = new ControllerManager({
      store: this.store,
      clock: this.clock,
      behaviour: this.behaviour,
      random: this.random.fork('controllers'),
      podEvents: options.podEvents,
      onError: options.onError,
      // Real time: batch bursts (fewer writes); manual time: run at once so `advance` settles.
      batching: options.batching ?? (isManualClock(options.clock) ? 'microtask' : 'immediate'),
    });
    this.tickMs = options.trafficTickMs ?? 1000;
    this.scrapeMs = options.scrapeIntervalMs ?? 5000;
    this.tsdb = new Tsdb({ retentionMs: options.retentionMs, scrapeIntervalMs: this.scrapeMs });
    this.metrics = new MetricsRegistry(this.tsdb);
    this.traffic = new TrafficSimulator({
      store: this.store,
      behaviour: this.behaviour,
      metrics: this.metrics,
      random: this.random.fork('traffic'),
      rps: options.trafficRps ?? DEFAULT_RPS,
      podsIn: (ns) => this.controllers.ctx.podsByNs.in(ns),
      logRequest: (uid, t, line) => this.controllers.kubelet.logRequest(uid, t, line),
    });
    this.prometheus = createPrometheusApi(this.tsdb, () => this.clock.now());
    this.apiFaults = { errorRate: 0, errorCodes: [500, 503, 429], latencyMs: 0, watchCutAfterEvents: 0, forceWatchExpired: 0, conflictRate: 0, resources: [], verbs: [] };
  }

  /** Starts controllers, traffic and scraping. */
  start(): void {
    if (this.started) return;
    this.started = true;
    ensureNodes(this.store, this.clock.now());
    if (this.options.prometheus !== false) ensurePrometheus(this.store);
    this.controllers.start();
    this.unsubscribe = this.store.onChange((e) => {
      if (e.resource === 'pods' && e.type === 'DELETED') this.metrics.forget(e.object.metadata.uid!, this.clock.now());
    });
    this.trafficUntil = this.clock.now();
    this.timers.push(this.clock.setInterval(() => this.runTick(), this.tickMs));
    this.timers.push(this.clock.setInterval(() => this.metrics.scrape(this.clock.now()), this.scrapeMs));
  }

  stop(): void {
    for (const t of this.timers) this.clock.clearInterval(t);
    this.timers.length = 0;
    this.unsubscribe?.();
    this.traffic.stop();
    this.controllers.stop();
  }

  setRps(rps: number): void {
    this.traffic.setRps(rps);
  }

  /** Runs a PromQL instant query now (in-process handle). */
  query(q: string, t = this.clock.now()): PromResult {
    return instantQuery(this.tsdb, q, t);
  }

  /** Wires the simulation into an API server: faults object, pod logs, service proxy, admin. */
  attach(server: ApiServer): void {
    this.apiFaults = server.faults;
    server.hooks.podLogs = (req) => podLogs(this.controllers.kubelet, this.clock, req);
    server.hooks.serviceProxy = (req, res, target) => this.serviceProxy(req, res, target);
    server.hooks.admin = createAdminHandler(this);
  }

  private runTick(): void {
    // Traffic for the clock time that really passed since the last tick, not one tick's worth: on a real
    // clock at --speed 150 a tick is due every 7 ms of wall time, and a busy or paused event loop runs
    // fewer of them, which would quietly lower the configured rate (and starve analysis of requests).
    // A long stall (a suspended laptop) is made up for at most MAX_TRAFFIC_CATCH_UP_MS.
    const now = this.clock.now();
    const ms = Math.min(now - this.trafficUntil, MAX_TRAFFIC_CATCH_UP_MS);
    this.trafficUntil = now;
    if (ms <= 0) return;
    if (this.traffic.rps <= 0 && this.traffic.entryPoints().every((e) => e.rps <= 0)) return;
    try {
      this.traffic.tick(now, ms);
    } catch (err) {
      this.options.onError?.(err, 'traffic');
    }
  }

  private async serviceProxy(req: http.IncomingMessage, res: http.ServerResponse, target: ServiceProxyTarget): Promise<void> {
    if (target.namespace === PROMETHEUS.namespace && target.service === PROMETHEUS.service) {
      if (target.port && target.port !== String(PROMETHEUS.port) && target.port !== 'web' && target.port !== 'http') {
        throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${target.service}:${target.port}"`);
      }
      return this.prometheus.handle(req, res, target.path, target.search);
    }
    // Any other Service: answer like the app would, from one of its ready pods.
    const svc = this.store.get('services', target.namespace, target.service);
    const ready = podsForService(this.store, svc).filter(podIsReady);
    if (!ready.length) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${target.service}"`);
    const pod = ready[this.random.int(ready.length)];
    const image = ((pod.spec as { containers?: { image: string }[] }).containers ?? [])[0]?.image ?? '';
    const b = this.behaviour.forImage(image);
    const code = this.random.next() < b.errorRate ? b.errorCode : 200;
    const body = JSON.stringify({ service: target.service, pod: pod.metadata.name, image, path: target.path, latencyMs: Math.round(sampleLatencyMs(b, () => this.random.normal())) });
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}

/** monitoring/prometheus: Namespace, a Deployment for realism and the Service the proxy path names. */
export function ensurePrometheus(store: Store): void {
  const { namespace, service, port } = PROMETHEUS;
  const create = (resource: string, obj: KubeObject) => {
    if (!store.tryGet(resource, obj.metadata.namespace, obj.metadata.name!)) store.create(resource, obj);
  };
  create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
  const labels = { app: 'prometheus' };
  create('deployments.apps', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: service, namespace, labels },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'prometheus', image: 'quay.io/prometheus/prometheus:v2.54.1', ports: [{ name: 'web', containerPort: port }] }] } },
    },
  });
  create('services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service, namespace, labels },
    spec: { selector: labels, ports: [{ name: 'web', port, targetPort: 'web' }] },
  });
}
