// The engine's public face, consumed by the CLI, the tree, the CodeLens, the Testing view and the
// dashboard. Views subscribe to snapshots and send requests; they never talk to the cluster themselves.
import type { Pipeline } from '../deployfile/model';
import type { GateKind, RolloutAction, RolloutPhase, RolloutSnapshot } from './snapshot';

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

/**
 * What the view badge and the status bar need of a target, read from its record alone (no Deployment,
 * Pod, Job or Lease watches). `waitsForHuman` and `active` follow the same rule as the editor's merged
 * status (engine/attention.ts).
 */
export interface AttentionEntry {
  /** The very object passed to `watchAttention`, so callers map entries back without a key scheme. */
  target: RolloutTarget;
  pipeline: string;
  environment: string;
  runId?: string;
  phase: RolloutPhase;
  gateKind?: GateKind;
  waitsForHuman: boolean;
  active: boolean;
  /** The record could not be read (unreachable, forbidden, damaged, invalid deploy file): no attention. */
  error?: RolloutSnapshot['error'];
}

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
  /**
   * Optional (the editor's badge and status bar): one entry per target, first once the records were
   * listed, then on every change that alters an entry. Costs one ConfigMap watch per (context,
   * namespace) for all the given targets together, instead of a full session per target.
   */
  watchAttention?(targets: readonly RolloutTarget[], listener: (entries: AttentionEntry[]) => void): Disposable;
  /**
   * Optional (a client about to leave: a CLI returning at a gate, the editor closing): stops driving
   * after the steps in flight are recorded and releases the Leases, so a client standing by (a
   * background driver) takes the runs over at once instead of when the Leases expire. Call dispose after.
   */
  handOver?(): Promise<void>;
  /** Releases watches, leases and timers. */
  dispose(): void;
}
