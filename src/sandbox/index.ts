// The sandbox cluster in one call: a Kubernetes API server emulator (src/sandbox/api) with the
// simulation (src/sandbox/sim) attached, listening on a local port, plus a kubeconfig for it.
//   const sb = await startSandbox({ port: 0, speed: 20 });
//   // sb.url, sb.kubeconfig (YAML), sb.admin (faults, behaviour, traffic, PromQL), sb.close()
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Store } from './api/store';
import { createApiServer, type ApiServer } from './api/server';
import { kubeconfigYaml } from './api/kubeconfig';
import { servingCertificate } from './api/tls';
import type { Faults } from './api/faults';
import { RealClock, type Clock } from './sim/clock';
import { Simulation, PROMETHEUS, type BehaviourOptions } from './sim/sim';
import { applyFaults, faultsView } from './sim/admin';
import { seedFromDirectory, type SeedReport } from './sim/seed';
import { createRandom } from './sim/random';
import type { PromResult } from './sim/promql';
import type { BehaviourTable } from './sim/behaviour';

export { RealClock, ManualClock, type Clock, type TimerHandle } from './sim/clock';
export { PROMETHEUS } from './sim/sim';
export type { BehaviourOptions } from './sim/sim';
export type { Behaviour, BehaviourOverride } from './sim/behaviour';
export type { SeedReport } from './sim/seed';

export interface SandboxOptions {
  /** TCP port (0 = any free port; default 0). */
  port?: number;
  /** Interface to bind (default 127.0.0.1). */
  host?: string;
  /** Clock speed factor when no clock is given (default 1; 20 plays 10 minutes in 30 s). */
  speed?: number;
  /** Inject a clock (a ManualClock for deterministic tests). */
  clock?: Clock;
  /** Directory of `*.deploy.yaml` files to seed from (environments whose context is `contextName`). */
  seed?: string;
  behaviour?: BehaviourOptions;
  /** Simulated requests per second per traffic entry point (default 50; 0 = none). */
  trafficRps?: number;
  /**
   * Serve HTTPS with a self-signed certificate made at start (default false: plain HTTP). The kubeconfig
   * then carries the certificate as the CA to trust, and Go clients such as kubectl speak HTTP/2, as
   * against a real cluster.
   */
  tls?: boolean;
  /** Kubeconfig context (and cluster/user) name (default 'sandbox'). */
  contextName?: string;
  /** Also write the kubeconfig here (directories created, mode 0600). */
  kubeconfigPath?: string;
  /** Seed of every random choice (default 'sandbox'). */
  randomSeed?: string;
  /** Pod lifecycle events (default true; benchmarks turn them off). */
  podEvents?: boolean;
  /** Called with unexpected controller errors (default: written to stderr when KD_DEBUG is set). */
  onError?: (err: unknown, where: string) => void;
}

export interface SandboxAdmin {
  /** The API server's fault settings (mutable; read on every request). */
  readonly faults: Faults;
  /** Changes some faults (same fields as PUT /admin/faults, plus controllersPaused); throws on bad input. */
  setFaults(faults: Partial<Faults> & { controllersPaused?: boolean }): void;
  /** Back to no faults, controllers running. */
  clearFaults(): void;
  /** Pauses (or resumes) every controller and the kubelet. */
  pauseControllers(paused: boolean): void;
  readonly behaviour: BehaviourTable;
  /** Default requests per second per entry point. */
  setTrafficRps(rps: number): void;
  /** Runs a PromQL instant query against the sandbox's metrics. */
  query(promql: string, timeMs?: number): PromResult;
  /** The simulation itself, for tests that need its parts. */
  readonly simulation: Simulation;
}

export interface Sandbox {
  url: string;
  /** Kubeconfig YAML (context `contextName`; with TLS the CA to trust, else insecure-skip-tls-verify). */
  kubeconfig: string;
  kubeconfigPath?: string;
  contextName: string;
  admin: SandboxAdmin;
  store: Store;
  clock: Clock;
  server: ApiServer;
  /** What seeding created (when `seed` was given). */
  seedReport?: SeedReport;
  /** PEM certificate the server presents and clients trust, with `tls`. */
  ca?: string;
  /** Prometheus base URL through the API server's service proxy. */
  prometheusUrl: string;
  close(): Promise<void>;
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const ownClock = options.clock ? undefined : new RealClock(options.speed ?? 1);
  const clock: Clock = options.clock ?? ownClock!;
  const random = createRandom(`${options.randomSeed ?? 'sandbox'}/store`);
  const store = new Store({ now: () => clock.now(), random: () => random.next() });
  const host = options.host ?? '127.0.0.1';
  const tls = options.tls ? await servingCertificate([host]) : undefined;
  const server = createApiServer({ store, tls });
  const onError =
    options.onError ??
    ((err: unknown, where: string) => {
      if (process.env.KD_DEBUG) process.stderr.write(`sandbox: ${where}: ${(err as Error)?.stack ?? String(err)}\n`);
    });
  const sim = new Simulation({
    store,
    clock,
    randomSeed: options.randomSeed,
    behaviour: options.behaviour,
    trafficRps: options.trafficRps,
    podEvents: options.podEvents,
    onError,
  });
  sim.attach(server);
  sim.start();
  const contextName = options.contextName ?? 'sandbox';
  let url: string;
  try {
    url = await server.listen(options.port ?? 0, host);
  } catch (err) {
    sim.stop();
    ownClock?.dispose();
    throw err;
  }
  const kubeconfig = kubeconfigYaml(url, contextName, undefined, tls?.cert);
  let seedReport: SeedReport | undefined;
  try {
    if (options.kubeconfigPath) {
      await fs.mkdir(path.dirname(options.kubeconfigPath), { recursive: true });
      await fs.writeFile(options.kubeconfigPath, kubeconfig, { mode: 0o600 });
    }
    if (options.seed) seedReport = await seedFromDirectory(store, options.seed, contextName);
  } catch (err) {
    // Never leave a half-started server behind.
    sim.stop();
    await server.close();
    ownClock?.dispose();
    throw err;
  }

  const admin: SandboxAdmin = {
    faults: server.faults,
    setFaults(f) {
      const problems = applyFaults(sim, f as Record<string, unknown>);
      if (problems.length) throw new Error(`invalid faults: ${problems.join('; ')}`);
    },
    clearFaults() {
      applyFaults(sim, { ...faultsView(sim), errorRate: 0, latencyMs: 0, watchCutAfterEvents: 0, forceWatchExpired: 0, conflictRate: 0, resources: [], verbs: [], controllersPaused: false });
    },
    pauseControllers: (paused) => sim.controllers.setPaused(paused),
    behaviour: sim.behaviour,
    setTrafficRps: (rps) => sim.setRps(rps),
    query: (q, t) => sim.query(q, t),
    simulation: sim,
  };
  let closed = false;
  return {
    url,
    kubeconfig,
    kubeconfigPath: options.kubeconfigPath,
    contextName,
    admin,
    store,
    clock,
    server,
    seedReport,
    ca: tls?.cert,
    prometheusUrl: `${url}/api/v1/namespaces/${PROMETHEUS.namespace}/services/${PROMETHEUS.service}:${PROMETHEUS.port}/proxy`,
    async close() {
      if (closed) return;
      closed = true;
      sim.stop();
      await server.close();
      ownClock?.dispose();
    },
  };
}
