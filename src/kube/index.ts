// The cluster side of the engine: a Connector over kubeconfig + HTTP, and a RolloutService wired to it.
// This is the module the extension loads lazily (it pulls in @kubernetes/client-node).
import type { ClusterAccess } from '../engine/api';
import { scaledClock, systemClock, type Clock } from '../engine/clock';
import type { KubeOps } from '../engine/ports';
import { createRolloutService, type EngineOptions, type EngineService } from '../engine/service';
import { connect } from './ops';

export { connect, HttpKubeOps } from './ops';
export { loadKubeconfig, defaultPaths } from './config';

export function connector(timeoutMs?: number): EngineOptions['connect'] {
  return (access: ClusterAccess, context: string) => connect({ paths: access.kubeconfigPaths, yaml: access.kubeconfigYaml, context, timeoutMs });
}

/**
 * The engine's clock for a cluster: a Kube Delivery sandbox running faster than real time announces its
 * clock at /admin/clock, and the engine follows it so cron checks and deadlines line up with the pods.
 */
export async function clockFor(ops: KubeOps): Promise<Clock> {
  const c = await (ops as { sandboxClock?: () => Promise<{ now: number; speed: number; manual: boolean } | undefined> }).sandboxClock?.();
  if (!c || c.manual) return systemClock;
  return scaledClock(c.now, c.speed);
}

export function createClusterRolloutService(opts: Omit<EngineOptions, 'connect'> & { timeoutMs?: number }): EngineService {
  return createRolloutService({ clock: clockFor, ...opts, connect: connector(opts.timeoutMs) });
}
