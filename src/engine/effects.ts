// Effects: the side effects the state machine asks for. Each is idempotent by construction (ensure a
// desired state, create with a deterministic name and adopt on AlreadyExists), so a driver that died
// while one was in flight can simply run it again. The executor lives in the driver.
import type { Weights } from '../deployfile/model';
import type { Measurement } from './snapshot';
import type { StableInfo, Track } from './types';

export type Effect = { id: string } & (
  | { kind: 'prepare' }
  /** Set the image on the stable Deployment (simple deploy, canary promotion); replicas restores a count. */
  | { kind: 'setImage'; image: string; replicas?: number }
  /** Put back the pod template (and replicas) captured at prepare. */
  | { kind: 'restoreStable' }
  /** Create or update a Deployment for a track (and its Service), from the stable template. */
  | { kind: 'ensureTrack'; track: Exclude<Track, 'stable'>; image: string; replicas: number }
  | { kind: 'scale'; deployment: string; replicas: number }
  /** One router write. */
  | { kind: 'route'; weights: Weights; stageMax: number }
  /** istio: re-read stable's pod-template-hash after stable changed and re-point the stable subset. */
  | { kind: 'refreshStable' }
  /** attempt > 1: a re-run asked for by a human (a new Job; earlier attempts stay recorded). */
  | { kind: 'startTest'; test: string; stage: number; job: string; attempt?: number }
  | { kind: 'finishTest'; test: string; stage: number; job: string; outcome: 'passed' | 'failed' | 'timedOut' }
  | { kind: 'measure'; stage: number; check: number }
  /** blueGreen: point the active Service at a colour, in one write. */
  | { kind: 'switch'; to: Track }
  /** blueGreen: give the active Service back the user's own selector (after a rollback, new pods gone). */
  | { kind: 'restoreSelector' }
  /** Remove what the run created (by label) and restore the router's own objects. */
  | { kind: 'cleanup'; reason: 'promoted' | 'rollback' }
);

export type EffectKind = Effect['kind'];

export type EffectResult =
  | { kind: 'prepare'; stable: StableInfo; events?: string[] }
  | { kind: 'route'; actual: Weights }
  | { kind: 'refreshStable'; hash?: string }
  | { kind: 'finishTest'; logExcerpt?: string; message?: string }
  | { kind: 'measure'; measurements: Measurement[] }
  | { kind: 'none' };

/** How an effect failed: transient errors are retried, permanent ones stop the run safely. */
export interface EffectError {
  transient: boolean;
  message: string;
  kind: 'unreachable' | 'forbidden' | 'notFound' | 'invalid' | 'conflict' | 'other';
  /**
   * What the failed attempt changed in the cluster before it failed (prepare applied the manifests, then
   * had to wait for the Deployment). Recorded even when the effect is retried: the retry finds those
   * changes already made and would otherwise leave no trace of them in the record.
   */
  done?: string[];
}

/**
 * Thrown by the executor when an effect failed after it had changed something: carries the failure
 * (a KubeError or any error) and what was done, so the record keeps both.
 */
export class PartlyDoneError extends Error {
  constructor(
    readonly failure: unknown,
    readonly done: string[],
  ) {
    super(failure instanceof Error ? failure.message : String(failure));
  }
}
