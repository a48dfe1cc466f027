// Incremental updates for the dashboard: the host sends one full snapshot, then the difference between
// consecutive snapshots. A six-hour canary has ~20,000 timeline points; re-sending (and re-rendering) all
// of them on every weight change would make each update cost grow with the run's age. The append-only
// arrays (timeline, analysis, events) travel as their new tail; every other top-level field is sent only
// when it changed. Pure functions, shared by the host (compute) and the webview (apply).
import type { RolloutSnapshot } from '../engine/snapshot';
import { APPEND_FIELDS, type AppendField, type SnapshotDelta } from './protocol';
import { deepEqual } from '../common/deepEqual';

// Structural equality, one implementation shared with the sandbox API server (pure, browser-safe).
export { deepEqual };

/** True when `prefix` is element-wise equal to the start of `arr` (reference equality first: cheap). */
function isPrefix(prefix: readonly unknown[], arr: readonly unknown[]): boolean {
  if (prefix.length > arr.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (prefix[i] !== arr[i] && !deepEqual(prefix[i], arr[i])) return false;
  }
  return true;
}

const APPEND = new Set<string>(APPEND_FIELDS);

/**
 * How many items were dropped from the front of `prev` when `next` is `prev` minus its first k items plus
 * a new tail (a capped window that slid), or -1. Tries each position where next's first item could be.
 */
function slidBy(prev: readonly unknown[], next: readonly unknown[]): number {
  if (!next.length) return -1;
  for (let k = 1; k < prev.length; k++) {
    if (prev[k] !== next[0] && !deepEqual(prev[k], next[0])) continue;
    if (prev.length - k > next.length) return -1;
    let ok = true;
    for (let i = k; i < prev.length && ok; i++) ok = prev[i] === next[i - k] || deepEqual(prev[i], next[i - k]);
    if (ok) return k;
  }
  return -1;
}

/**
 * The delta turning `prev` into `next`. Callers send a full snapshot instead when the run changed
 * (`needsFullSnapshot`); computing a delta across runs is still correct, only larger.
 */
export function computeDelta(prev: RolloutSnapshot, next: RolloutSnapshot): SnapshotDelta {
  const delta: SnapshotDelta = { fromSeq: prev.seq, toSeq: next.seq, set: {}, unset: [], append: {} };
  const set = delta.set as Record<string, unknown>;
  const p = prev as unknown as Record<string, unknown>;
  const n = next as unknown as Record<string, unknown>;
  for (const k of Object.keys(n)) {
    const nv = n[k];
    if (nv === undefined) continue;
    const pv = p[k];
    if (APPEND.has(k) && Array.isArray(pv) && Array.isArray(nv)) {
      if (pv === nv) continue;
      if (isPrefix(pv, nv)) {
        if (nv.length > pv.length) (delta.append as Record<string, unknown[]>)[k] = nv.slice(pv.length);
        continue;
      }
      const dropped = slidBy(pv, nv);
      // Worth it only when most of the array is kept (a sliding window), not for a rewrite.
      if (dropped > 0 && pv.length - dropped >= nv.length / 2) {
        (delta.drop ??= {})[k as AppendField] = dropped;
        const kept = pv.length - dropped;
        if (nv.length > kept) (delta.append as Record<string, unknown[]>)[k] = nv.slice(kept);
      } else {
        set[k] = nv;
      }
      continue;
    }
    if (!deepEqual(pv, nv)) set[k] = nv;
  }
  for (const k of Object.keys(p)) {
    if (p[k] !== undefined && n[k] === undefined) delta.unset.push(k as keyof RolloutSnapshot);
  }
  return delta;
}

/** True when nothing but seq changed (the host may skip posting such a delta). */
export function isEmptyDelta(d: SnapshotDelta): boolean {
  const setKeys = Object.keys(d.set).filter((k) => k !== 'seq');
  return setKeys.length === 0 && d.unset.length === 0 && Object.keys(d.append).length === 0 && Object.keys(d.drop ?? {}).length === 0;
}

/** A new run (or a first sight) is better served by a full snapshot than by a delta. */
export function needsFullSnapshot(prev: RolloutSnapshot | undefined, next: RolloutSnapshot): boolean {
  return !prev || prev.runId !== next.runId || prev.pipeline !== next.pipeline || prev.environment !== next.environment;
}

export type ApplyResult = { ok: true; snapshot: RolloutSnapshot } | { ok: false; error: string };

/**
 * Applies `delta` to `prev`; refuses when `prev` is not the snapshot the delta was computed from.
 * `inPlace` appends to prev's arrays instead of copying them: the webview owns its copy and a 20,000-point
 * timeline copied on every update is garbage the page would collect while the user watches.
 */
export function applyDelta(prev: RolloutSnapshot, delta: SnapshotDelta, options: { inPlace?: boolean } = {}): ApplyResult {
  if (prev.seq !== delta.fromSeq) {
    return { ok: false, error: `delta from seq ${delta.fromSeq} cannot apply to seq ${prev.seq}` };
  }
  const out = { ...prev, ...delta.set } as Record<string, unknown>;
  for (const k of delta.unset) delete out[k];
  for (const k of APPEND_FIELDS) {
    const tail = delta.append[k as AppendField] ?? [];
    const drop = k in delta.set ? 0 : (delta.drop?.[k] ?? 0);
    if (!tail.length && !drop) continue;
    const arr = out[k] as unknown[];
    if (!Array.isArray(arr) || drop > arr.length) return { ok: false, error: `delta drops ${drop} of ${Array.isArray(arr) ? arr.length : 0} ${k} items` };
    if (options.inPlace && !(k in delta.set)) {
      if (drop) arr.splice(0, drop);
      for (const item of tail) arr.push(item);
    } else {
      out[k] = (drop ? arr.slice(drop) : arr).concat(tail);
    }
  }
  out.seq = delta.toSeq;
  return { ok: true, snapshot: out as unknown as RolloutSnapshot };
}
