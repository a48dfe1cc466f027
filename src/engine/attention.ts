// Whether a rollout needs a human and whether it is in progress: ONE pure rule, read by the engine's
// light attention stream (from the record alone) and by the editor's merged status (from a snapshot),
// so the view badge and the status bar can never disagree with the tree. Both inputs carry the same
// two facts: the snapshot's phase and gate kind are copied from the record's (see view.ts).
import type { GateKind, RolloutPhase } from './snapshot';

const ACTIVE_PHASES: ReadonlySet<RolloutPhase> = new Set<RolloutPhase>(['progressing', 'waiting', 'paused']);

export interface AttentionState {
  phase: RolloutPhase;
  gateKind?: GateKind;
  /** The state could not be read as it is now (unreachable, forbidden, damaged record). */
  hasError?: boolean;
}

/** A run is in progress (the status-bar count). Last known state counts even when it went stale. */
export function isActivePhase(phase: RolloutPhase): boolean {
  return ACTIVE_PHASES.has(phase);
}

/**
 * A human must act: a manual gate, a gate with no data, or a failure that could not roll back. Never
 * while the state is unknown: a badge must not ask for a decision nobody can check.
 */
export function waitsForHuman(s: AttentionState): boolean {
  if (s.hasError) return false;
  if (s.phase === 'failed') return true;
  return s.phase === 'waiting' && (s.gateKind === 'manual' || s.gateKind === 'noData');
}
