// Which field selectors each resource accepts over HTTP, as kube-apiserver's registries declare them
// (the `ToSelectableFields` / `GetAttrs` of each kind). Anything else is a 400 BadRequest, as on a
// real cluster: an unknown field label must not quietly select nothing (or everything).
// Some labels are not object paths: Event `source` is `source.component`, Job `status.successful` is
// `status.succeeded`, Pod `spec.hostNetwork` is false when unset. The store compares dotted paths,
// so the labels are mapped to the paths (and defaults) they stand for here.
import { badRequest } from './errors';
import { fieldValue, parseFieldSelector, type FieldSelector } from './selectors';
import type { ResourceDef } from './resources';

interface FieldLabel {
  path: string[];
  /** The value compared when the field is unset (kube-apiserver stringifies a zero value). */
  unset?: string;
}

const p = (dotted: string, unset?: string): FieldLabel => ({ path: dotted.split('.'), unset });

const SPECIFIC: Record<string, Record<string, FieldLabel>> = {
  namespaces: { 'status.phase': p('status.phase'), name: p('metadata.name') },
  nodes: { 'spec.unschedulable': p('spec.unschedulable', 'false') },
  pods: {
    'spec.nodeName': p('spec.nodeName'),
    'spec.restartPolicy': p('spec.restartPolicy'),
    'spec.schedulerName': p('spec.schedulerName'),
    'spec.serviceAccountName': p('spec.serviceAccountName'),
    'spec.hostNetwork': p('spec.hostNetwork', 'false'),
    'status.phase': p('status.phase'),
    'status.podIP': p('status.podIP'),
    'status.nominatedNodeName': p('status.nominatedNodeName'),
  },
  events: {
    'involvedObject.kind': p('involvedObject.kind'),
    'involvedObject.namespace': p('involvedObject.namespace'),
    'involvedObject.name': p('involvedObject.name'),
    'involvedObject.uid': p('involvedObject.uid'),
    'involvedObject.apiVersion': p('involvedObject.apiVersion'),
    'involvedObject.resourceVersion': p('involvedObject.resourceVersion'),
    'involvedObject.fieldPath': p('involvedObject.fieldPath'),
    reason: p('reason'),
    reportingComponent: p('reportingComponent'),
    source: p('source.component'),
    type: p('type'),
  },
  secrets: { type: p('type') },
  services: { 'spec.clusterIP': p('spec.clusterIP'), 'spec.type': p('spec.type') },
  'replicasets.apps': { 'status.replicas': p('status.replicas', '0') },
  'jobs.batch': { 'status.successful': p('status.succeeded', '0') },
};

/**
 * Parses a request's `fieldSelector` for a resource: unsupported labels are a 400 BadRequest
 * (`field label not supported: x`, or for custom resources kube-apiserver's `"x" is not a known field
 * selector: only ...`), supported ones are mapped to the paths the store compares.
 */
export function fieldSelectorFor(def: Pick<ResourceDef, 'key' | 'namespaced' | 'custom'>, s: string | undefined | null): FieldSelector {
  const parsed = parseFieldSelector(s);
  if (parsed.empty) return parsed;
  const specific = SPECIFIC[def.key] ?? {};
  const meta = def.namespaced ? ['metadata.name', 'metadata.namespace'] : ['metadata.name'];
  const labels: FieldLabel[] = [];
  for (const r of parsed.requirements) {
    if (meta.includes(r.field)) labels.push(p(r.field));
    else if (Object.prototype.hasOwnProperty.call(specific, r.field)) labels.push(specific[r.field]);
    else if (def.custom) throw badRequest(`"${r.field}" is not a known field selector: only ${meta.map((m) => `"${m}"`).join(', ')}`);
    else throw badRequest(`field label not supported: ${r.field}`);
  }
  const requirements = parsed.requirements.map((r, i) => ({ ...r, path: labels[i].path }));
  const valueOf = (obj: unknown, i: number): string => {
    const v = fieldValue(obj, labels[i].path);
    return v === '' && labels[i].unset !== undefined ? labels[i].unset! : v;
  };
  return {
    requirements,
    empty: false,
    matches: (obj) => requirements.every((r, i) => (valueOf(obj, i) === r.value) !== r.negate),
  };
}
