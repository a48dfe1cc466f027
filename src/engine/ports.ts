// What the engine needs from a cluster, as a small interface: src/kube implements it over HTTP with
// @kubernetes/client-node's kubeconfig handling; tests implement it in memory. Keeping the engine on this
// interface is what lets it load without client-node.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  ownerReferences?: { kind: string; name: string; uid?: string; controller?: boolean }[];
  creationTimestamp?: string;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  status?: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  data?: Record<string, string>;
  [k: string]: unknown;
}

export interface ObjRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type ErrorKind = 'unreachable' | 'forbidden' | 'notFound' | 'invalid' | 'conflict' | 'alreadyExists' | 'timeout' | 'other';

/** A failed cluster call, already phrased for a human (what failed and what to do). */
export class KubeError extends Error {
  constructor(
    message: string,
    readonly kind: ErrorKind,
    readonly code: number,
    /** Worth retrying as is (network, 5xx, 429, timeouts, conflicts). */
    readonly transient: boolean,
  ) {
    super(message);
    this.name = 'KubeError';
  }
}

export type WatchEvent = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject };

export interface WatchHandle {
  dispose(): void;
  /** Resolves once the first list has been delivered. */
  synced: Promise<void>;
}

export interface PrometheusTarget {
  service?: { namespace: string; name: string; port: number };
  url?: string;
}

/** Counts per kind of request, for benchmarks. */
export interface RequestStats {
  total: number;
  byVerb: Record<string, number>;
  /** `verb resource` (e.g. `update leases.coordination.k8s.io`), when the implementation knows it. */
  byResource?: Record<string, number>;
}

export interface KubeOps {
  /** The kubeconfig context and server, for messages. */
  readonly context: string;
  readonly server: string;
  get(ref: ObjRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, namespace: string | undefined, labelSelector?: string): Promise<KubeObject[]>;
  create(obj: KubeObject): Promise<KubeObject>;
  /** PUT with metadata.resourceVersion (409 when stale). */
  replace(obj: KubeObject): Promise<KubeObject>;
  mergePatch(ref: ObjRef, patch: unknown): Promise<KubeObject>;
  jsonPatch(ref: ObjRef, ops: unknown[]): Promise<KubeObject>;
  /**
   * Server-side apply (PATCH application/apply-patch+yaml with fieldManager and force): creates the
   * object or updates the fields the manager applies. Optional: without it the engine creates what is
   * missing and merge-patches what exists (what the sandbox's apply approximates anyway).
   */
  apply?(obj: KubeObject, fieldManager: string, force: boolean): Promise<KubeObject>;
  delete(ref: ObjRef): Promise<void>;
  /** Deletes every object of a kind matching a selector. */
  deleteAll(apiVersion: string, kind: string, namespace: string, labelSelector: string): Promise<number>;
  podLog(namespace: string, pod: string, tailLines: number): Promise<string>;
  prometheus(target: PrometheusTarget, query: string, timeSec: number): Promise<unknown>;
  /**
   * List then watch, forever until disposed: resumes from its resourceVersion after a cut, re-syncs after
   * 410. `onRecover` is called when a stream opens again after `onError` reported a failure.
   */
  watch(apiVersion: string, kind: string, namespace: string | undefined, labelSelector: string | undefined, onEvent: (e: WatchEvent) => void, onError?: (err: KubeError) => void, onRecover?: () => void): WatchHandle;
  stats(): RequestStats;
  dispose(): void;
}
