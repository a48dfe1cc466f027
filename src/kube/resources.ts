// Which REST path serves a kind: the fixed table of what Kube Delivery reads and writes (no discovery
// round trip needed; an unknown kind in a manifest is an error naming it).

export interface ResourceInfo {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

const TABLE: Record<string, Omit<ResourceInfo, 'version'> & { versions?: string[] }> = {
  'v1/Namespace': { group: '', plural: 'namespaces', namespaced: false },
  'v1/Pod': { group: '', plural: 'pods', namespaced: true },
  'v1/Service': { group: '', plural: 'services', namespaced: true },
  'v1/ConfigMap': { group: '', plural: 'configmaps', namespaced: true },
  'v1/Secret': { group: '', plural: 'secrets', namespaced: true },
  'v1/ServiceAccount': { group: '', plural: 'serviceaccounts', namespaced: true },
  'v1/Event': { group: '', plural: 'events', namespaced: true },
  'v1/Endpoints': { group: '', plural: 'endpoints', namespaced: true },
  'v1/PersistentVolumeClaim': { group: '', plural: 'persistentvolumeclaims', namespaced: true },
  'apps/Deployment': { group: 'apps', plural: 'deployments', namespaced: true },
  'apps/ReplicaSet': { group: 'apps', plural: 'replicasets', namespaced: true },
  'apps/StatefulSet': { group: 'apps', plural: 'statefulsets', namespaced: true },
  'apps/DaemonSet': { group: 'apps', plural: 'daemonsets', namespaced: true },
  'batch/Job': { group: 'batch', plural: 'jobs', namespaced: true },
  'batch/CronJob': { group: 'batch', plural: 'cronjobs', namespaced: true },
  'coordination.k8s.io/Lease': { group: 'coordination.k8s.io', plural: 'leases', namespaced: true },
  'networking.k8s.io/Ingress': { group: 'networking.k8s.io', plural: 'ingresses', namespaced: true },
  'networking.k8s.io/NetworkPolicy': { group: 'networking.k8s.io', plural: 'networkpolicies', namespaced: true },
  'networking.istio.io/VirtualService': { group: 'networking.istio.io', plural: 'virtualservices', namespaced: true },
  'networking.istio.io/DestinationRule': { group: 'networking.istio.io', plural: 'destinationrules', namespaced: true },
  'networking.istio.io/Gateway': { group: 'networking.istio.io', plural: 'gateways', namespaced: true },
  'gateway.networking.k8s.io/HTTPRoute': { group: 'gateway.networking.k8s.io', plural: 'httproutes', namespaced: true },
  'gateway.networking.k8s.io/Gateway': { group: 'gateway.networking.k8s.io', plural: 'gateways', namespaced: true },
  'split.smi-spec.io/TrafficSplit': { group: 'split.smi-spec.io', plural: 'trafficsplits', namespaced: true },
  'autoscaling/HorizontalPodAutoscaler': { group: 'autoscaling', plural: 'horizontalpodautoscalers', namespaced: true },
  'policy/PodDisruptionBudget': { group: 'policy', plural: 'poddisruptionbudgets', namespaced: true },
  'rbac.authorization.k8s.io/Role': { group: 'rbac.authorization.k8s.io', plural: 'roles', namespaced: true },
  'rbac.authorization.k8s.io/RoleBinding': { group: 'rbac.authorization.k8s.io', plural: 'rolebindings', namespaced: true },
};

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function resourceOf(apiVersion: string, kind: string): ResourceInfo | undefined {
  const { group, version } = splitApiVersion(apiVersion);
  const r = TABLE[`${group || 'v1'}/${kind}`];
  return r ? { group: r.group, version, plural: r.plural, namespaced: r.namespaced } : undefined;
}

/** `deployments.apps`, as kubectl and RBAC name a resource. */
export function resourceName(r: ResourceInfo): string {
  return r.group ? `${r.plural}.${r.group}` : r.plural;
}

export function collectionPath(r: ResourceInfo, namespace: string | undefined): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  return r.namespaced && namespace ? `${base}/namespaces/${encodeURIComponent(namespace)}/${r.plural}` : `${base}/${r.plural}`;
}

export function objectPath(r: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}
