// The record: what the cluster keeps about a pipeline's rollouts in one ConfigMap (current run, bounded
// history, pending requests from observers). Pure (de)serialisation with caps so it stays far below the
// 1 MiB object limit whatever happens in a run.
import type { RouterType, StrategyType, Weights } from '../deployfile/model';
import type { Effect } from './effects';
import type { GateKind, Measurement, PastRun, RolloutAction, RolloutEvent, RolloutPhase, TestRun } from './snapshot';

export const RECORD_KEY = 'record.json';
export const RECORD_FORMAT = 1;
export const CAPS = { analysis: 300, events: 120, timeline: 240, tests: 100, history: 20, effectLog: 40 } as const;
/** ConfigMaps may hold 1 MiB in total; keep the record well below it. */
export const MAX_RECORD_BYTES = 256 * 1024;

export type StepName =
  | 'prepare'
  | 'deploy'
  | 'ready'
  | 'route'
  | 'tests'
  | 'analysis'
  | 'gate'
  | 'switch'
  | 'scaleDownDelay'
  | 'promoteCanaryScale'
  | 'promoteCanaryReady'
  | 'promoteCanaryRoute'
  | 'promoteStable'
  | 'promoteStableReady'
  | 'promoteRoute'
  | 'cleanup'
  | 'rollbackRoute'
  | 'rollbackRestore'
  | 'rollbackReady'
  | 'rollbackCleanup'
  | 'done';

/** What the engine learnt about the live app when the run started (and refreshes on promotion). */
export interface StableInfo {
  deployment: string;
  image: string;
  replicas: number;
  /** The pod template before the run, restored on a simple rollback (JSON). */
  template: Record<string, unknown>;
  /** Labels of the stable pod template (copied to canary/baseline pods as appropriate). */
  podLabels: Record<string, string>;
  /** The user's Service selector before the run. */
  serviceSelector: Record<string, string>;
  /** pod-template-hash of stable's current ReplicaSet (Istio stable subset). */
  hash?: string;
  /** blueGreen: the colour the active Service selected at the start, and the one being rolled out. */
  activeTrack?: 'stable' | 'blue' | 'green';
  activeDeployment?: string;
  idleTrack?: 'blue' | 'green';
  idleDeployment?: string;
  /** blueGreen with previewWeight: how the active Service shares live traffic before the switch. Absent
   * when it cannot (see the Prepared events): the preview then gets no live traffic. */
  preview?: PreviewSelectors;
}

/**
 * Without a traffic router the active Service itself splits preview traffic by pod count: it selects
 * both colours (`preview`) while the new colour runs `pods` pods, and only the live colour otherwise
 * (`active`). When the live version is the user's own Deployment, its selector is first narrowed with
 * its pod-template-hash so the new colour's pods (which carry the user's labels) get nothing outside
 * the preview, and `user` is put back once they are gone after a rollback.
 */
export interface PreviewSelectors {
  active: Record<string, string>;
  preview: Record<string, string>;
  user?: Record<string, string>;
  /** Pods of the new colour during the preview. */
  pods: number;
}

export interface TimelineEntry {
  at: number;
  stage: number;
  requested: Weights;
  actual: Weights;
}

export interface ChecksState {
  stage: number;
  done: number;
  passed: number;
  failed: number;
  noData: number;
  /** Inconclusive checks (too few requests) in a row; absent in records written before minRequests. */
  inconclusive?: number;
  nextAt: number;
}

export interface JournalEntry {
  id: string;
  kind: Effect['kind'];
  at: number;
  status: 'started' | 'done' | 'failed';
  note?: string;
}

export interface RunRecord {
  runId: string;
  environment: string;
  strategy: StrategyType;
  router?: RouterType;
  image: string;
  fromImage?: string;
  actor?: string;
  phase: RolloutPhase;
  reason: string;
  startedAt: number;
  finishedAt?: number;
  updatedAt: number;
  step: StepName;
  stage: number;
  stepSince: number;
  stageTimes: { startedAt?: number; finishedAt?: number; state?: 'failed' | 'skipped' }[];
  paused: boolean;
  requested: Weights;
  /** Weights the router actually carries (replicas: from ready pods at the last write). */
  actual: Weights;
  stable?: StableInfo;
  checks?: ChecksState;
  gate?: { kind: GateKind; since: number; message: string; nextCheckAt?: number };
  tests: TestRun[];
  analysis: Measurement[];
  timeline: TimelineEntry[];
  events: RolloutEvent[];
  /** Effect being executed: re-executed (idempotently) by a driver that restarts. */
  pending?: Effect;
  effectSeq: number;
  journal: JournalEntry[];
  /** Desired-state signatures already applied, so a restarted driver does not write them twice. */
  applied: Record<string, string>;
  /** Where a rollback ends: the terminal phase and why. */
  outcome?: { phase: 'rolledBack' | 'aborted' | 'failed'; reason: string };
  /** Set by promote: the stage whose remaining gates are skipped. */
  promoteStage?: number;
  promoteFull?: boolean;
  /** blueGreen: when traffic switched to the new colour. */
  switchedAt?: number;
  /** Highest request id already handled. */
  lastRequest: number;
  /** Transient error retry state. */
  retry?: { attempts: number; at: number; message: string };
}

/** What an observer may ask the driver for through the record. */
export type RequestAction = Exclude<RolloutAction, 'start' | 'retry'> | 'rerunTest';

export interface RolloutRequest {
  id: number;
  action: RequestAction;
  actor: string;
  at: number;
  /** rerunTest: the test's name. */
  test?: string;
}

export interface RecordDoc {
  format: number;
  pipeline: string;
  current?: RunRecord;
  history: PastRun[];
  requests: RolloutRequest[];
}

export const emptyDoc = (pipeline: string): RecordDoc => ({ format: RECORD_FORMAT, pipeline, history: [], requests: [] });

const tail = <T>(a: T[], n: number): T[] => (a.length > n ? a.slice(a.length - n) : a);

/** Applies the caps (oldest entries go first). */
export function capDoc(doc: RecordDoc): RecordDoc {
  const c = doc.current;
  const current = c
    ? {
        ...c,
        analysis: tail(c.analysis, CAPS.analysis),
        events: tail(c.events, CAPS.events),
        timeline: tail(c.timeline, CAPS.timeline),
        tests: tail(c.tests, CAPS.tests),
        journal: tail(c.journal, CAPS.effectLog),
      }
    : undefined;
  return { ...doc, current, history: doc.history.slice(0, CAPS.history), requests: doc.requests.slice(-50) };
}

/** Serialises with the caps; if still too large (huge messages), keeps shrinking the long lists. */
export function serializeDoc(doc: RecordDoc): string {
  let d = capDoc(doc);
  let text = JSON.stringify(d);
  let guard = 0;
  while (Buffer.byteLength(text) > MAX_RECORD_BYTES && d.current && guard++ < 12) {
    const c = d.current;
    const half = <T>(a: T[]) => a.slice(Math.floor(a.length / 2));
    d = {
      ...d,
      history: d.history.slice(0, Math.max(1, Math.floor(d.history.length / 2))),
      current: {
        ...c,
        analysis: half(c.analysis),
        events: half(c.events),
        timeline: half(c.timeline),
        journal: half(c.journal),
        tests: c.tests.map((t) => ({ ...t, logExcerpt: t.logExcerpt?.slice(-2000) })),
      },
    };
    text = JSON.stringify(d);
  }
  return text;
}

export type DocParse = { ok: true; doc: RecordDoc } | { ok: false; message: string };

/** Reads the ConfigMap's data; a damaged record is an error value naming the object, never a crash. */
export function parseDoc(pipeline: string, data: Record<string, string> | undefined, where: string): DocParse {
  const text = data?.[RECORD_KEY];
  if (text === undefined) return { ok: true, doc: emptyDoc(pipeline) };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, message: `${where}: data.${RECORD_KEY} is not valid JSON (${(e as Error).message}); delete the ConfigMap to start afresh` };
  }
  const d = raw as Partial<RecordDoc>;
  if (!d || typeof d !== 'object' || d.format !== RECORD_FORMAT) {
    return { ok: false, message: `${where}: data.${RECORD_KEY} has format ${String((d as RecordDoc | null)?.format)}, expected ${RECORD_FORMAT}` };
  }
  return {
    ok: true,
    doc: { format: RECORD_FORMAT, pipeline: d.pipeline ?? pipeline, current: d.current, history: Array.isArray(d.history) ? d.history : [], requests: Array.isArray(d.requests) ? d.requests : [] },
  };
}

/** Moves a finished current run into the history (newest first). */
export function archive(doc: RecordDoc): RecordDoc {
  const c = doc.current;
  if (!c || !isTerminal(c.phase)) return doc;
  const past: PastRun = {
    runId: c.runId,
    image: c.image,
    fromImage: c.fromImage ?? '',
    phase: c.phase,
    reason: c.reason,
    startedAt: new Date(c.startedAt).toISOString(),
    finishedAt: c.finishedAt ? new Date(c.finishedAt).toISOString() : undefined,
  };
  return { ...doc, history: [past, ...doc.history.filter((h) => h.runId !== c.runId)].slice(0, CAPS.history) };
}

export const isTerminal = (p: RolloutPhase): boolean => p === 'succeeded' || p === 'failed' || p === 'rolledBack' || p === 'aborted' || p === 'idle';

/**
 * Merges a driver's view with what another writer stored meanwhile (on 409): the driver owns the run,
 * observers only append requests, so keep the driver's run and the union of unhandled requests.
 */
export function mergeForWrite(mine: RecordDoc, theirs: RecordDoc): RecordDoc {
  const handled = mine.current?.lastRequest ?? 0;
  const ids = new Set<number>();
  const requests: RolloutRequest[] = [];
  for (const r of [...theirs.requests, ...mine.requests]) {
    if (r.id <= handled || ids.has(r.id)) continue;
    ids.add(r.id);
    requests.push(r);
  }
  requests.sort((a, b) => a.id - b.id);
  return { ...mine, requests };
}
