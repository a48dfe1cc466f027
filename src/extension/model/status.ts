// Pure presentation of a rollout snapshot: ONE merged status (icon id, colour, short description) per
// pipeline, whether it waits for a human, and which actions the context keys should expose. Every
// surface (tree, CodeLens, status bar, badge) uses these so they never disagree.
import { isActivePhase, waitsForHuman } from '../../engine/attention';
import type { RolloutAction, RolloutSnapshot, VersionStatus } from '../../engine/snapshot';

export interface MergedStatus {
  /** Codicon id (ThemeIcon). */
  icon: string;
  /** Theme colour id, or undefined for the default foreground. */
  color?: string;
  /** Short label of the state: "waiting", "healthy", "rolled back"... */
  label: string;
  /** One line for the tree description and the CodeLens. */
  description: string;
}

export function isActive(s: RolloutSnapshot | undefined): boolean {
  return !!s && isActivePhase(s.phase);
}

/** A human must act (the engine's rule, shared with its attention stream so the badge agrees). */
export function needsHuman(s: RolloutSnapshot | undefined): boolean {
  return !!s && waitsForHuman({ phase: s.phase, gateKind: s.gate?.kind, hasError: !!s.error });
}

export function pct(n: number): string {
  return `${Math.round(n * 10) / 10}%`;
}

/** "stage 2/4 · canary 25% · waiting for promotion" when the engine gave no reason of its own. */
export function composeReason(s: RolloutSnapshot): string {
  const parts: string[] = [];
  if (isActive(s)) {
    if (s.stage.count > 0) parts.push(`stage ${s.stage.index + 1}/${s.stage.count}`);
    if (s.strategy === 'canary') parts.push(`canary ${pct(s.weights.actual.canary)}`);
    if (s.gate?.message) parts.push(s.gate.message);
    else if (s.phase === 'paused') parts.push('paused');
    else parts.push(s.phase);
    return parts.join(' · ');
  }
  const stable = stableImage(s.versions);
  const tag = stable ? imageTag(stable) : undefined;
  switch (s.phase) {
    case 'idle':
      return tag ? `idle · ${tag}` : 'never deployed';
    case 'succeeded':
      return `healthy${tag ? ` · ${tag}` : s.toImage ? ` · ${imageTag(s.toImage)}` : ''}`;
    default:
      return s.phase;
  }
}

/** Terminal states lead with what happened ("rolled back: …"), whatever words the engine's reason uses. */
function describe(s: RolloutSnapshot): string {
  const reason = s.reason?.trim();
  if (!reason) return composeReason(s);
  const lead: Partial<Record<RolloutSnapshot['phase'], string>> = { rolledBack: 'rolled back', aborted: 'aborted', failed: 'failed' };
  const word = lead[s.phase];
  if (s.phase === 'succeeded') return composeReason(s);
  if (word && !reason.toLowerCase().startsWith(word)) return `${word}: ${reason}`;
  return reason;
}

export function mergedStatus(s: RolloutSnapshot | undefined): MergedStatus {
  if (!s) return { icon: 'loading~spin', label: 'loading', description: 'loading…' };
  const description = describe(s);
  if (s.error) {
    switch (s.error.kind) {
      case 'unreachable':
        return { icon: 'debug-disconnect', color: 'errorForeground', label: 'unreachable', description: s.error.message };
      case 'forbidden':
        return { icon: 'lock', color: 'errorForeground', label: 'forbidden', description: s.error.message };
      default:
        return { icon: 'warning', color: 'list.warningForeground', label: s.error.kind, description: s.error.message };
    }
  }
  switch (s.phase) {
    case 'idle':
      return { icon: 'circle-large-outline', label: 'idle', description };
    case 'progressing':
      return { icon: 'sync~spin', color: 'charts.blue', label: 'progressing', description };
    case 'waiting':
      return needsHuman(s)
        ? { icon: 'bell-dot', color: 'charts.yellow', label: 'waiting for you', description }
        : { icon: 'watch', color: 'charts.blue', label: 'waiting', description };
    case 'paused':
      return { icon: 'debug-pause', color: 'charts.yellow', label: 'paused', description };
    case 'succeeded':
      return { icon: 'pass-filled', color: 'testing.iconPassed', label: 'healthy', description };
    case 'failed':
      return { icon: 'error', color: 'testing.iconFailed', label: 'failed', description };
    case 'rolledBack':
      return { icon: 'discard', color: 'testing.iconFailed', label: 'rolled back', description };
    case 'aborted':
      return { icon: 'circle-slash', color: 'charts.orange', label: 'aborted', description };
  }
}

export const ACTION_FLAGS: Record<RolloutAction, string> = {
  start: 'canStart',
  promote: 'canPromote',
  promoteFull: 'canPromoteFull',
  abort: 'canAbort',
  pause: 'canPause',
  resume: 'canResume',
  retry: 'canRetry',
};

/**
 * The tree item's contextValue: "pipeline" plus one flag per allowed action (menus match them with
 * `viewItem =~ /\bcanPromote\b/`), "protected", "active", "waitingForHuman".
 */
export function pipelineContextValue(s: RolloutSnapshot | undefined, isProtected: boolean): string {
  const flags = ['pipeline'];
  if (s && !s.error) {
    for (const [action, flag] of Object.entries(ACTION_FLAGS) as [RolloutAction, string][]) {
      if (s.actions?.[action]?.allowed) flags.push(flag);
    }
  } else if (!s || s.error?.kind === 'notFound') {
    // Unknown state: starting is always worth offering (the engine refuses with a reason if not).
    flags.push('canStart');
  }
  if (isProtected) flags.push('protected');
  if (isActive(s)) flags.push('active');
  if (needsHuman(s)) flags.push('waitingForHuman');
  return flags.join(' ');
}

export function stableImage(versions: readonly VersionStatus[]): string | undefined {
  return (versions.find((v) => v.role === 'stable') ?? versions.find((v) => v.active))?.image;
}

export function imageTag(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1, at + 20);
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash ? image.slice(colon + 1) : 'latest';
}

export function versionDescription(v: VersionStatus): string {
  const active = v.active === undefined ? '' : v.active ? ' · active' : ' · idle';
  return `${imageTag(v.image)} · ${v.ready}/${v.desired} ready${active}`;
}

/** "3m ago" style age, from an ISO time to `now`. */
export function age(iso: string | undefined, now: number): string {
  if (!iso) return '';
  const ms = now - Date.parse(iso);
  if (!Number.isFinite(ms)) return '';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}
