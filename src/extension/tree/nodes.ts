// Tree node identities. Nodes are cached by id so `getParent`, `reveal` and targeted refreshes see
// the same objects across renders.
import type { ResolvedTarget } from '../model/targets';
import type { DetailDesc } from './details';

export interface EnvNode {
  kind: 'env';
  id: string;
  name: string;
}

export interface PipelineNode {
  kind: 'pipeline';
  id: string;
  target: ResolvedTarget;
  parent: EnvNode;
}

export interface DetailNode {
  kind: 'detail';
  id: string;
  desc: DetailDesc;
  parent: PipelineNode | DetailNode;
  /** The pipeline node this detail belongs to (for commands run on a detail). */
  owner: PipelineNode;
}

export type Node = EnvNode | PipelineNode | DetailNode;

/** Groups targets by environment name, in first-seen order (deploy files list them in promotion order). */
export function groupByEnvironment(targets: readonly ResolvedTarget[]): Map<string, ResolvedTarget[]> {
  const groups = new Map<string, ResolvedTarget[]>();
  for (const t of targets) {
    const list = groups.get(t.environment);
    if (list) list.push(t);
    else groups.set(t.environment, [t]);
  }
  return groups;
}

/** "sandbox · checkout-staging" for one place, "2 contexts · 3 namespaces" otherwise. */
export function environmentPlace(targets: readonly ResolvedTarget[]): string {
  const contexts = [...new Set(targets.map((t) => t.environmentModel.context))];
  const namespaces = [...new Set(targets.map((t) => t.environmentModel.namespace))];
  const c = contexts.length === 1 ? contexts[0] : `${contexts.length} contexts`;
  const n = namespaces.length === 1 ? namespaces[0] : `${namespaces.length} namespaces`;
  return `${c} · ${n}`;
}
