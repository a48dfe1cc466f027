// The engine's public face, consumed by the CLI, the tree, the CodeLens, the Testing view and the
// dashboard. Views subscribe to snapshots and send requests; they never talk to the cluster themselves.
import type { Pipeline } from '../deployfile/model';
import type { RolloutAction, RolloutSnapshot } from './snapshot';

export interface Disposable { dispose(): void }

/** One pipeline in one environment: the unit a rollout runs on. */
export interface RolloutTarget {
  pipeline: Pipeline;
  environment: string;
}

/** Where the cluster is: resolved from a kubeconfig (file or merged KUBECONFIG paths) and a context. */
export interface ClusterAccess {
  /** Kubeconfig file paths, merged in order (KUBECONFIG semantics). Empty = default loading rules. */
  kubeconfigPaths?: string[];
  /** Inline kubeconfig YAML (e.g. the sandbox's), used instead of files when set. */
  kubeconfigYaml?: string;
  /** Overrides the environment's context. */
  context?: string;
}

export interface ActionOptions {
  /** Required for writes to a `protected` environment: must equal the environment's name. */
  confirm?: string;
  /** For start: an image overriding the deploy file's. */
  image?: string;
  /** Who asks (shown in the record's events): "vscode:alice", "cli:ci-42". */
  actor?: string;
  /** For start/retry: false records the run without driving it here (another client will). Default true. */
  drive?: boolean;
}

/** Result of a request: errors are values at this edge. */
export type ActionResult =
  | { ok: true; snapshot: RolloutSnapshot }
  | { ok: false; code: 'notAllowed' | 'needsConfirmation' | 'invalid' | 'unreachable' | 'forbidden' | 'notFound' | 'conflict' | 'other'; message: string };

export interface RolloutService {
  /** Current snapshot (reads the record and live objects once). */
  status(target: RolloutTarget): Promise<RolloutSnapshot>;
  /**
   * Streams snapshots: the current one first, then one per change, from watches (no polling).
   * The listener is called with a new immutable object each time.
   */
  watch(target: RolloutTarget, listener: (snapshot: RolloutSnapshot) => void): Disposable;
  act(target: RolloutTarget, action: RolloutAction, options?: ActionOptions): Promise<ActionResult>;
  /**
   * Optional (used by the editor's Testing view): runs the named test of the current stage again as a
   * new Job and records its verdict in the run like the first attempt. Same rules as `act` for
   * protected environments (`confirm`); refused with `notAllowed` when no run is active.
   */
  rerunTest?(target: RolloutTarget, test: string, options?: ActionOptions): Promise<ActionResult>;
  /** Releases watches, leases and timers. */
  dispose(): void;
}
