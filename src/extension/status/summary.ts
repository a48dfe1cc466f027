// Pure: the counts behind the view badge (rollouts waiting for a human, all environments) and the
// status-bar item (rollouts in progress), from full snapshots or from the engine's attention entries.
import type { RolloutSnapshot } from '../../engine/snapshot';
import { isActive, needsHuman } from '../model/status';
import type { ResolvedTarget } from '../model/targets';

export interface Summary {
  waiting: ResolvedTarget[];
  active: ResolvedTarget[];
}

/** From full snapshots (services without an attention stream). */
export function summarize(entries: readonly { target: ResolvedTarget; snapshot: RolloutSnapshot }[]): Summary {
  return summarizeAttention(entries.map(({ target, snapshot }) => ({ target, waitsForHuman: needsHuman(snapshot), active: isActive(snapshot) })));
}

/** From the engine's attention entries, whose flags follow the same rule as needsHuman/isActive. */
export function summarizeAttention(entries: readonly { target: ResolvedTarget; waitsForHuman: boolean; active: boolean }[]): Summary {
  const waiting: ResolvedTarget[] = [];
  const active: ResolvedTarget[] = [];
  for (const e of entries) {
    if (e.waitsForHuman) waiting.push(e.target);
    if (e.active) active.push(e.target);
  }
  return { waiting, active };
}

export function badgeTooltip(n: number): string {
  return n === 1 ? '1 rollout is waiting for you' : `${n} rollouts are waiting for you`;
}

export function statusBarText(s: Summary): string | undefined {
  if (!s.active.length) return undefined;
  const waiting = s.waiting.filter((t) => s.active.includes(t)).length;
  return `$(rocket) ${s.active.length} rollout${s.active.length === 1 ? '' : 's'}${waiting ? ` · ${waiting} waiting` : ''}`;
}
