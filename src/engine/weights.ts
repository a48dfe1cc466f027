// Weight arithmetic (pure): replica counts for the replicas router, honest actual weights from ready
// pods, and the invariants the engine asserts after every write.
import type { Weights } from '../deployfile/model';

export const STABLE_ONLY: Weights = Object.freeze({ canary: 0, baseline: 0, current: 100 }) as Weights;
export const CANARY_ONLY: Weights = Object.freeze({ canary: 100, baseline: 0, current: 0 }) as Weights;

export const sumOf = (w: Weights): number => w.canary + w.baseline + w.current;
export const sameWeights = (a: Weights, b: Weights): boolean => a.canary === b.canary && a.baseline === b.baseline && a.current === b.current;

/**
 * Integer percentages proportional to counts that sum to exactly 100 (largest remainder), or undefined
 * when there is nothing to divide (no ready pods: no traffic can be served, say so rather than invent).
 */
export function percentages(counts: Weights): Weights | undefined {
  const total = sumOf(counts);
  if (total <= 0) return undefined;
  const keys: (keyof Weights)[] = ['canary', 'baseline', 'current'];
  const raw = keys.map((k) => (counts[k] * 100) / total);
  const floor = raw.map(Math.floor);
  let left = 100 - floor.reduce((a, b) => a + b, 0);
  const order = keys.map((_, i) => i).sort((a, b) => raw[b] - floor[b] - (raw[a] - floor[a]) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    floor[i]++;
    left--;
  }
  return { canary: floor[0], baseline: floor[1], current: floor[2] };
}

export interface ReplicaSplit {
  canary: number;
  baseline: number;
  stable: number;
}

/**
 * Pods per track for the replicas router: `total` pods split by the stage's weights. A non-zero weight
 * gets at least one pod (a 5% canary on 4 pods still needs a pod to measure); the rounding is reported
 * back honestly through the actual weights, never hidden.
 */
export function replicaSplit(w: Weights, total: number): ReplicaSplit {
  const t = Math.max(1, Math.floor(total));
  if (w.current === 0 && w.baseline === 0) return { canary: t, baseline: 0, stable: 0 };
  let canary = w.canary > 0 ? Math.max(1, Math.round((t * w.canary) / 100)) : 0;
  let baseline = w.baseline > 0 ? Math.max(1, Math.round((t * w.baseline) / 100)) : 0;
  // Keep at least one stable pod while the stage gives stable traffic.
  while (w.current > 0 && canary + baseline > t - 1 && (canary > 1 || baseline > 1)) {
    if (canary >= baseline && canary > 1) canary--;
    else if (baseline > 1) baseline--;
  }
  const stable = w.current > 0 ? Math.max(1, t - canary - baseline) : 0;
  return { canary, baseline, stable };
}

/** The weights the replicas router actually gives: ready pods per track over all ready pods. */
export function actualFromReady(ready: { canary: number; baseline: number; stable: number }): Weights | undefined {
  return percentages({ canary: ready.canary, baseline: ready.baseline, current: ready.stable });
}

export interface InvariantViolation {
  rule: string;
  message: string;
}

/**
 * Traffic invariants: weights are integers in [0,100] summing to 100, and the canary never gets more than
 * the stage allows. Exact routers are checked on what was written; replicas is rounding-bound and
 * checked on what it requested.
 */
export function checkWeights(written: Weights, stageMax: number): InvariantViolation[] {
  const out: InvariantViolation[] = [];
  for (const k of ['canary', 'baseline', 'current'] as const) {
    const v = written[k];
    if (!Number.isInteger(v) || v < 0 || v > 100) out.push({ rule: 'range', message: `${k} weight ${v} is not an integer in 0..100` });
  }
  if (sumOf(written) !== 100) out.push({ rule: 'sum', message: `weights sum to ${sumOf(written)}, not 100` });
  if (written.canary > stageMax) out.push({ rule: 'canaryMax', message: `canary weight ${written.canary}% exceeds the stage's ${stageMax}%` });
  return out;
}

export const formatWeights = (w: Weights): string =>
  w.baseline > 0 ? `canary ${w.canary}% · baseline ${w.baseline}% · stable ${w.current}%` : `canary ${w.canary}% · stable ${w.current}%`;
