// Facts: the driver's view of the live objects (from watches), reduced to what the state machine needs.
// Pure helpers, including the `kubectl rollout status` rules.

export interface DeploymentFacts {
  name: string;
  generation: number;
  observedGeneration: number;
  /** spec.replicas */
  desired: number;
  /** status.replicas */
  replicas: number;
  updated: number;
  ready: number;
  available: number;
  image?: string;
  progressDeadlineExceeded: boolean;
  /** Some pod of the current template is crash-looping (CrashLoopBackOff or restarts rising). */
  crashLooping: boolean;
  crashMessage?: string;
  labels?: Record<string, string>;
}

export interface JobFacts {
  name: string;
  succeeded: boolean;
  failed: boolean;
  message?: string;
}

export interface Facts {
  deployments: Record<string, DeploymentFacts | undefined>;
  jobs: Record<string, JobFacts | undefined>;
}

export const emptyFacts = (): Facts => ({ deployments: {}, jobs: {} });

export type RolloutStatus = { state: 'done' } | { state: 'waiting'; message: string } | { state: 'error'; message: string };

/** `kubectl rollout status` for a Deployment, in kubectl's order; a crash loop is an error too. */
export function rolloutStatus(d: DeploymentFacts | undefined, name: string): RolloutStatus {
  if (!d) return { state: 'waiting', message: `waiting for Deployment ${name} to appear` };
  if (d.generation > d.observedGeneration) return { state: 'waiting', message: `waiting for Deployment ${name} spec update to be observed` };
  if (d.progressDeadlineExceeded) return { state: 'error', message: `Deployment ${name} exceeded its progress deadline` };
  if (d.crashLooping) return { state: 'error', message: `pods of Deployment ${name} are crash-looping${d.crashMessage ? `: ${d.crashMessage}` : ''}` };
  if (d.updated < d.desired) return { state: 'waiting', message: `${name}: ${d.updated} of ${d.desired} new pods updated` };
  if (d.replicas > d.updated) return { state: 'waiting', message: `${name}: ${d.replicas - d.updated} old pods terminating` };
  if (d.available < d.updated) return { state: 'waiting', message: `${name}: ${d.available} of ${d.updated} updated pods available` };
  return { state: 'done' };
}
