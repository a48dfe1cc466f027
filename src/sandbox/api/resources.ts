// The resource registry: every kind the sandbox API server serves, with what discovery, routing and
// the store need to know about it. A resource is addressed by its *key*: `plural` for the core group,
// `plural.group` otherwise (`pods`, `deployments.apps`, `virtualservices.networking.istio.io`) — the
// same "group resource" string kube-apiserver uses in its messages. Storage is version-independent:
// a resource served under several versions (Istio v1beta1 and v1) shares one set of objects.

export type Subresource = 'status' | 'scale' | 'log' | 'proxy';

export interface ResourceDef {
  /** `plural` or `plural.group`. */
  key: string;
  group: string;
  /** Served versions, preferred (storage) version first. */
  versions: string[];
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames: string[];
  categories: string[];
  subresources: Subresource[];
  /** CRD-like: no strategic merge patch (415), resourceVersion required on update (422). */
  custom: boolean;
  /** metadata.generation is kept (1 on create, +1 on a spec change): the kinds whose registry tracks it
   * (workloads, Ingress, custom resources); kube-apiserver leaves it unset on the others. */
  generation: boolean;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function def(d: Partial<ResourceDef> & Pick<ResourceDef, 'plural' | 'kind'> & { group?: string; versions?: string[] }): ResourceDef {
  const group = d.group ?? '';
  return {
    key: group ? `${d.plural}.${group}` : d.plural,
    group,
    versions: d.versions ?? ['v1'],
    plural: d.plural,
    singular: d.singular ?? d.kind.toLowerCase(),
    kind: d.kind,
    listKind: d.listKind ?? `${d.kind}List`,
    namespaced: d.namespaced ?? true,
    verbs: d.verbs ?? ALL_VERBS,
    shortNames: d.shortNames ?? [],
    categories: d.categories ?? [],
    subresources: d.subresources ?? [],
    custom: d.custom ?? false,
    generation: d.generation ?? d.custom ?? false,
  };
}

export const RESOURCES: readonly ResourceDef[] = [
  def({ plural: 'namespaces', kind: 'Namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  def({ plural: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  def({ plural: 'pods', kind: 'Pod', shortNames: ['po'], categories: ['all'], subresources: ['status', 'log'] }),
  def({ plural: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], subresources: ['status', 'proxy'], verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] }),
  def({ plural: 'endpoints', kind: 'Endpoints', singular: 'endpoints', listKind: 'EndpointsList', shortNames: ['ep'] }),
  def({ plural: 'configmaps', kind: 'ConfigMap', shortNames: ['cm'] }),
  def({ plural: 'secrets', kind: 'Secret' }),
  def({ plural: 'events', kind: 'Event', shortNames: ['ev'] }),
  def({ plural: 'deployments', group: 'apps', kind: 'Deployment', generation: true, shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  def({ plural: 'replicasets', group: 'apps', kind: 'ReplicaSet', generation: true, shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  def({ plural: 'jobs', group: 'batch', kind: 'Job', generation: true, categories: ['all'], subresources: ['status'] }),
  def({ plural: 'leases', group: 'coordination.k8s.io', kind: 'Lease' }),
  // Kinds that app manifests often carry next to their Deployment and that need no controller here:
  // stored and served as a cluster does, with no effect on the simulation (no RBAC is enforced, no
  // volume is provisioned, nothing autoscales or evicts), so `kubectl apply -f` of a whole app works.
  def({ plural: 'serviceaccounts', kind: 'ServiceAccount', shortNames: ['sa'] }),
  def({ plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', shortNames: ['pvc'], subresources: ['status'] }),
  def({ plural: 'roles', group: 'rbac.authorization.k8s.io', kind: 'Role' }),
  def({ plural: 'rolebindings', group: 'rbac.authorization.k8s.io', kind: 'RoleBinding' }),
  def({ plural: 'horizontalpodautoscalers', group: 'autoscaling', versions: ['v2', 'v1'], kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: ['all'], subresources: ['status'] }),
  def({ plural: 'poddisruptionbudgets', group: 'policy', kind: 'PodDisruptionBudget', generation: true, shortNames: ['pdb'], subresources: ['status'] }),
  def({ plural: 'networkpolicies', group: 'networking.k8s.io', kind: 'NetworkPolicy', generation: true, shortNames: ['netpol'] }),
  def({ plural: 'ingresses', group: 'networking.k8s.io', kind: 'Ingress', generation: true, shortNames: ['ing'], subresources: ['status'] }),
  def({ plural: 'virtualservices', group: 'networking.istio.io', versions: ['v1beta1', 'v1', 'v1alpha3'], kind: 'VirtualService', shortNames: ['vs'], categories: ['istio-io', 'networking-istio-io'], custom: true, subresources: ['status'] }),
  def({ plural: 'destinationrules', group: 'networking.istio.io', versions: ['v1beta1', 'v1', 'v1alpha3'], kind: 'DestinationRule', shortNames: ['dr'], categories: ['istio-io', 'networking-istio-io'], custom: true, subresources: ['status'] }),
  def({ plural: 'httproutes', group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', shortNames: ['httproute'], categories: ['gateway-api'], custom: true, subresources: ['status'] }),
  def({ plural: 'trafficsplits', group: 'split.smi-spec.io', versions: ['v1alpha4', 'v1alpha3', 'v1alpha2'], kind: 'TrafficSplit', shortNames: ['ts'], custom: true }),
];

const byKey = new Map<string, ResourceDef>(RESOURCES.map((r) => [r.key, r]));

/** The registry entry for a key (`deployments.apps`); undefined when not served. */
export function resourceByKey(key: string): ResourceDef | undefined {
  return byKey.get(key);
}

/** Like resourceByKey but throws for an unknown key: a programming error in the caller. */
export function mustResource(key: string): ResourceDef {
  const r = byKey.get(key);
  if (!r) throw new Error(`unknown sandbox resource '${key}' (known: ${[...byKey.keys()].join(', ')})`);
  return r;
}

/** Finds the resource served at /api(s)/{group}/{version}/.../{plural}. */
export function resourceFor(group: string, version: string, plural: string): ResourceDef | undefined {
  const r = byKey.get(group ? `${plural}.${group}` : plural);
  return r && r.versions.includes(version) ? r : undefined;
}

/** `apps/v1` or `v1` for a resource in a given (default: preferred) version. */
export function apiVersionOf(r: ResourceDef, version = r.versions[0]): string {
  return r.group ? `${r.group}/${version}` : version;
}

/** The resource key for an object's apiVersion + kind (used for ownerReferences and the protobuf path). */
export function resourceForKind(apiVersion: string, kind: string): ResourceDef | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  return RESOURCES.find((r) => r.group === group && r.kind === kind && r.versions.includes(version));
}

/** Groups with their versions, in registry order (core group first as ''). */
export function groups(): { group: string; versions: string[] }[] {
  const out = new Map<string, Set<string>>();
  for (const r of RESOURCES) {
    const s = out.get(r.group) ?? new Set<string>();
    for (const v of r.versions) s.add(v);
    out.set(r.group, s);
  }
  return [...out].map(([group, versions]) => ({ group, versions: [...versions] }));
}

/** Resources served under group/version. */
export function resourcesIn(group: string, version: string): ResourceDef[] {
  return RESOURCES.filter((r) => r.group === group && r.versions.includes(version));
}
