// The rollout state snapshot: the ONE interface the CLI, the tree, the CodeLens, the Testing view and the
// dashboard read. The engine produces a new immutable snapshot on every change (cluster watch event,
// analysis check, test result, user request) and streams them; views never talk to the cluster.
// Keep this file free of imports from kube/sandbox/vscode so the webview bundle can import its types.
import type { RouterType, StageMode, StrategyType, Weights } from '../deployfile/model';

export type { Weights };

export type RolloutPhase =
  | 'idle' // no run yet (or record absent)
  | 'progressing' // the engine is moving towards the next gate
  | 'waiting' // at a gate: manual promotion, analysis checks, tests, pause, no data
  | 'paused' // a human paused it
  | 'succeeded'
  | 'failed' // failed and could not roll back cleanly (needs a human)
  | 'rolledBack' // a gate failed, traffic returned to stable automatically
  | 'aborted'; // a human aborted; traffic on stable

export type RolloutAction = 'start' | 'promote' | 'promoteFull' | 'abort' | 'pause' | 'resume' | 'retry';

export type VersionRole = 'stable' | 'canary' | 'baseline' | 'blue' | 'green';

export interface VersionStatus {
  role: VersionRole;
  deployment: string;
  image: string;
  desired: number;
  ready: number;
  updated: number;
  available: number;
  /** For blue-green: which colour the active Service selects. */
  active?: boolean;
}

export type GateKind = 'manual' | 'analysis' | 'tests' | 'pause' | 'noData' | 'rolloutStatus' | 'scaleDownDelay' | 'after';

export interface Gate {
  kind: GateKind;
  /** ISO time since when the run waits at this gate. */
  since: string;
  /** Human sentence: "waiting for promotion", "analysis 2 of 3 checks passed, next at 10:45". */
  message: string;
  /** For analysis gates. */
  checksDone?: number;
  checksNeeded?: number;
  nextCheckAt?: string;
}

/**
 * `inconclusive`: the canary got fewer requests than `analysis.minRequests` in the query window, so the
 * check neither passes nor fails (it counts towards neither `checks` nor `failureLimit`).
 */
export type Verdict = 'pass' | 'fail' | 'noData' | 'error' | 'inconclusive';

/** How many requests a measurement is based on (present when `analysis.minRequests` > 0). */
export interface SampleSize {
  /** Requests the canary (blue-green: the new colour) received in the query window; null when unknown (count query failed). */
  canary: number | null;
  /** The baseline's, when the canary was judged against a baseline. */
  baseline?: number | null;
  /** `analysis.minRequests` the counts were held against. */
  min: number;
  /** The query window (`1m`) read from the count query's range selectors; absent when they differ or there is none. */
  window?: string;
  /** PromQL actually sent for the canary's count. */
  query: string;
}

export interface Measurement {
  stage: number;
  /** 1-based index of the check within the stage. */
  check: number;
  metric: 'successRate' | 'latencyP50Ms' | 'latencyP99Ms';
  /** PromQL actually sent. */
  query: string;
  /** Canary's value; null when Prometheus returned no samples. */
  value: number | null;
  /** Baseline's value when judged against baseline. */
  baselineValue?: number | null;
  threshold: number;
  /** 'min' = value must be >= threshold (success rate); 'max' = value must be <= threshold (latency). */
  comparator: 'min' | 'max';
  verdict: Verdict;
  /** "success rate 91.2% < 99%"; "success rate 98.3%, too few requests to judge: 60 in the last 1m, needs 100" */
  message: string;
  at: string;
  /** Sample size behind the verdict, when the analysis has a minimum (`minRequests` > 0). */
  requests?: SampleSize;
}

export type TestStatus = 'pending' | 'running' | 'passed' | 'failed' | 'timedOut';

export interface TestRun {
  name: string;
  /** Stage index it belongs to (-1 for simple/blue-green pre-switch tests). */
  stage: number;
  status: TestStatus;
  job?: string;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  message?: string;
  logExcerpt?: string;
  /** 1-based attempt; absent for the first. A re-run (RolloutService.rerunTest) adds an entry with the
   * next number, so every attempt of a test in a stage stays visible; the latest is the test's verdict. */
  attempt?: number;
}

export interface TimelinePoint {
  at: string;
  stage: number;
  requested: Weights;
  actual: Weights;
}

export interface RolloutEvent {
  at: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface StageStatus {
  index: number;
  mode: StageMode;
  weights: Weights;
  state: 'done' | 'current' | 'pending' | 'failed' | 'skipped';
  gate?: GateKind;
  startedAt?: string;
  finishedAt?: string;
}

export interface PastRun {
  runId: string;
  image: string;
  fromImage: string;
  phase: RolloutPhase;
  reason: string;
  startedAt: string;
  finishedAt?: string;
}

export interface ActionAvailability {
  allowed: boolean;
  /** Why not, when not allowed ("no run in progress", "already at the last stage"). */
  reason?: string;
}

export interface RolloutSnapshot {
  pipeline: string;
  environment: string;
  context: string;
  namespace: string;
  strategy: StrategyType;
  router?: RouterType;
  /** Increments on every snapshot of a run; views use it to apply updates incrementally. */
  seq: number;
  runId?: string;
  phase: RolloutPhase;
  /** One human sentence for the merged status ("stage 2/4 · canary 25% · waiting for promotion"). */
  reason: string;
  startedAt?: string;
  finishedAt?: string;
  updatedAt: string;
  fromImage?: string;
  toImage?: string;
  /** 0-based current stage and count (simple: 1 stage; blue-green: preview, switch). */
  stage: { index: number; count: number };
  stages: StageStatus[];
  weights: { requested: Weights; actual: Weights };
  versions: VersionStatus[];
  gate?: Gate;
  analysis: Measurement[];
  tests: TestRun[];
  timeline: TimelinePoint[];
  events: RolloutEvent[];
  actions: Record<RolloutAction, ActionAvailability>;
  driver?: { holder: string; renewedAt: string; expiresAt: string; self: boolean };
  history: PastRun[];
  /** Set when the engine cannot see the cluster (unreachable, forbidden); the rest is the last known state. */
  error?: { kind: 'unreachable' | 'forbidden' | 'notFound' | 'invalid' | 'other'; message: string };
}
