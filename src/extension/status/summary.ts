// Pure: the counts behind the view badge (rollouts waiting for a human, all environments) and the
// status-bar item (rollouts in progress).
import type { RolloutSnapshot } from '../../engine/snapshot';
import { isActive, needsHuman } from '../model/status';
import type { ResolvedTarget } from '../model/targets';

export interface Summary {
  waiting: ResolvedTarget[];
  active: ResolvedTarget[];
}

export function summarize(entries: readonly { target: ResolvedTarget; snapshot: RolloutSnapshot }[]): Summary {
  const waiting: ResolvedTarget[] = [];
  const active: ResolvedTarget[] = [];
  for (const { target, snapshot } of entries) {
    if (needsHuman(snapshot)) waiting.push(target);
    if (isActive(snapshot)) active.push(target);
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
