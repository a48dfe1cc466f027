// What a command acts on: one pipeline in one environment of one deploy file. The tree, the CodeLens,
// the dashboard and palette pickers all reduce their arguments to this plain, serialisable shape.
import type { Environment, Pipeline } from '../../deployfile/model';

export interface TargetRef {
  /** Absolute path of the deploy file. */
  file: string;
  pipeline: string;
  environment: string;
}

export interface ResolvedTarget extends TargetRef {
  pipelineModel: Pipeline;
  environmentModel: Environment;
}

/**
 * Stable id of a target, usable as tree item id and test item id (which may not contain NUL).
 * Pipeline and environment names are Kubernetes-style names (no '#' or '@'), so the key is unambiguous.
 */
export function targetKey(t: TargetRef): string {
  return `${t.file}#${t.pipeline}@${t.environment}`;
}

export function targetLabel(t: TargetRef): string {
  return `${t.pipeline} → ${t.environment}`;
}

/**
 * Reduces whatever a command was invoked with (a tree node, a CodeLens/dashboard argument object, a
 * test item id) to a TargetRef, or undefined when the argument carries none (palette invocation).
 */
export function toTargetRef(arg: unknown): TargetRef | undefined {
  if (!arg || typeof arg !== 'object') return undefined;
  const a = arg as Record<string, unknown>;
  const inner = a.target && typeof a.target === 'object' ? (a.target as Record<string, unknown>) : a;
  const { file, pipeline, environment } = inner;
  if (typeof pipeline === 'string' && typeof environment === 'string') {
    return { file: typeof file === 'string' ? file : '', pipeline, environment };
  }
  return undefined;
}

/** Every (pipeline, environment) pair of the given pipelines, in file order. */
export function allTargets(pipelines: readonly Pipeline[]): ResolvedTarget[] {
  const out: ResolvedTarget[] = [];
  for (const p of pipelines) {
    for (const e of p.environments) {
      out.push({ file: p.file, pipeline: p.name, environment: e.name, pipelineModel: p, environmentModel: e });
    }
  }
  return out;
}

/** Finds the target in the current pipelines; a missing file matches on names alone (palette args). */
export function resolveTarget(pipelines: readonly Pipeline[], ref: TargetRef): ResolvedTarget | undefined {
  const candidates = allTargets(pipelines).filter((t) => t.pipeline === ref.pipeline && t.environment === ref.environment);
  return candidates.find((t) => !ref.file || samePath(t.file, ref.file)) ?? (ref.file ? undefined : candidates[0]);
}

function samePath(a: string, b: string): boolean {
  return a === b || a.replace(/\\/g, '/').toLowerCase() === b.replace(/\\/g, '/').toLowerCase();
}
