// Unknown fields in a write over HTTP. With `fieldValidation=Strict` (what kubectl 1.32 sends on create, apply,
// replace and patch once the OpenAPI document says the server validates): kube-apiserver refuses them
// with a 400 "strict decoding error: unknown field ...", so a typo such as `spec.replica: 3` fails
// instead of being dropped. The shapes below name the fields of the built-in kinds down to the levels
// where typos are made (object, metadata, spec, strategy, pod template, pod spec, containers, service
// ports); deeper structures (probes, volumes, affinity, status...) are taken as they come, so a field
// the list misses can only let a typo through, never refuse a valid manifest at those depths.
// Custom resources are not checked (their CRDs keep unknown fields). With `Warn` (the default when a
// request names none) or `Ignore`, unknown fields are dropped, with a `Warning` header for Warn, as
// kube-apiserver does. Writes made in process (controllers, seeding) are not checked.
import type { ResourceDef } from './resources';

/** `true`: anything below; an object: these fields; a one-element array: a list of that shape. */
type Shape = true | { [field: string]: Shape } | [Shape];

const ANY = true as const;
const MAP = ANY;

const OBJECT_META: Shape = {
  name: ANY, generateName: ANY, namespace: ANY, selfLink: ANY, uid: ANY, resourceVersion: ANY, generation: ANY,
  creationTimestamp: ANY, deletionTimestamp: ANY, deletionGracePeriodSeconds: ANY, labels: MAP, annotations: MAP,
  ownerReferences: ANY, finalizers: ANY, managedFields: ANY,
};

const LABEL_SELECTOR: Shape = { matchLabels: MAP, matchExpressions: [{ key: ANY, operator: ANY, values: ANY }] };

const CONTAINER: Shape = {
  name: ANY, image: ANY, command: ANY, args: ANY, workingDir: ANY,
  ports: [{ name: ANY, hostPort: ANY, containerPort: ANY, protocol: ANY, hostIP: ANY }],
  envFrom: ANY, env: [{ name: ANY, value: ANY, valueFrom: ANY }], resources: ANY, resizePolicy: ANY, restartPolicy: ANY,
  volumeMounts: ANY, volumeDevices: ANY, livenessProbe: ANY, readinessProbe: ANY, startupProbe: ANY, lifecycle: ANY,
  terminationMessagePath: ANY, terminationMessagePolicy: ANY, imagePullPolicy: ANY, securityContext: ANY,
  stdin: ANY, stdinOnce: ANY, tty: ANY,
};

const POD_SPEC: Shape = {
  volumes: ANY, initContainers: [CONTAINER], containers: [CONTAINER], ephemeralContainers: ANY, restartPolicy: ANY,
  terminationGracePeriodSeconds: ANY, activeDeadlineSeconds: ANY, dnsPolicy: ANY, nodeSelector: MAP,
  serviceAccountName: ANY, serviceAccount: ANY, automountServiceAccountToken: ANY, nodeName: ANY, hostNetwork: ANY,
  hostPID: ANY, hostIPC: ANY, shareProcessNamespace: ANY, securityContext: ANY, imagePullSecrets: ANY, hostname: ANY,
  subdomain: ANY, affinity: ANY, schedulerName: ANY, tolerations: ANY, hostAliases: ANY, priorityClassName: ANY,
  priority: ANY, dnsConfig: ANY, readinessGates: ANY, runtimeClassName: ANY, enableServiceLinks: ANY,
  preemptionPolicy: ANY, overhead: ANY, topologySpreadConstraints: ANY, setHostnameAsFQDN: ANY, os: ANY,
  hostUsers: ANY, schedulingGates: ANY, resourceClaims: ANY, resources: ANY,
};

const POD_TEMPLATE: Shape = { metadata: OBJECT_META, spec: POD_SPEC };

const withMeta = (fields: Record<string, Shape>): Shape => ({ apiVersion: ANY, kind: ANY, metadata: OBJECT_META, ...fields });

const SHAPES: Record<string, Shape> = {
  namespaces: withMeta({ spec: { finalizers: ANY }, status: ANY }),
  nodes: withMeta({ spec: { podCIDR: ANY, podCIDRs: ANY, providerID: ANY, unschedulable: ANY, taints: ANY, configSource: ANY, externalID: ANY }, status: ANY }),
  pods: withMeta({ spec: POD_SPEC, status: ANY }),
  services: withMeta({
    spec: {
      ports: [{ name: ANY, protocol: ANY, appProtocol: ANY, port: ANY, targetPort: ANY, nodePort: ANY }],
      selector: MAP, clusterIP: ANY, clusterIPs: ANY, type: ANY, externalIPs: ANY, sessionAffinity: ANY,
      loadBalancerIP: ANY, loadBalancerSourceRanges: ANY, externalName: ANY, externalTrafficPolicy: ANY,
      healthCheckNodePort: ANY, publishNotReadyAddresses: ANY, sessionAffinityConfig: ANY, ipFamilies: ANY,
      ipFamilyPolicy: ANY, allocateLoadBalancerNodePorts: ANY, loadBalancerClass: ANY, internalTrafficPolicy: ANY,
      trafficDistribution: ANY,
    },
    status: ANY,
  }),
  endpoints: withMeta({ subsets: ANY }),
  configmaps: withMeta({ data: MAP, binaryData: MAP, immutable: ANY }),
  secrets: withMeta({ data: MAP, stringData: MAP, type: ANY, immutable: ANY }),
  events: withMeta({
    involvedObject: ANY, reason: ANY, message: ANY, source: ANY, firstTimestamp: ANY, lastTimestamp: ANY, count: ANY,
    type: ANY, eventTime: ANY, series: ANY, action: ANY, related: ANY, reportingComponent: ANY, reportingInstance: ANY,
  }),
  'deployments.apps': withMeta({
    spec: {
      replicas: ANY, selector: LABEL_SELECTOR, template: POD_TEMPLATE,
      strategy: { type: ANY, rollingUpdate: { maxUnavailable: ANY, maxSurge: ANY } },
      minReadySeconds: ANY, revisionHistoryLimit: ANY, paused: ANY, progressDeadlineSeconds: ANY,
    },
    status: ANY,
  }),
  'replicasets.apps': withMeta({ spec: { replicas: ANY, minReadySeconds: ANY, selector: LABEL_SELECTOR, template: POD_TEMPLATE }, status: ANY }),
  'jobs.batch': withMeta({
    spec: {
      parallelism: ANY, completions: ANY, activeDeadlineSeconds: ANY, podFailurePolicy: ANY, successPolicy: ANY,
      backoffLimit: ANY, backoffLimitPerIndex: ANY, maxFailedIndexes: ANY, selector: LABEL_SELECTOR, manualSelector: ANY,
      template: POD_TEMPLATE, ttlSecondsAfterFinished: ANY, completionMode: ANY, suspend: ANY, podReplacementPolicy: ANY,
      managedBy: ANY,
    },
    status: ANY,
  }),
  'leases.coordination.k8s.io': withMeta({
    spec: { holderIdentity: ANY, leaseDurationSeconds: ANY, acquireTime: ANY, renewTime: ANY, leaseTransitions: ANY, strategy: ANY, preferredHolder: ANY },
  }),
  'ingresses.networking.k8s.io': withMeta({ spec: { ingressClassName: ANY, defaultBackend: ANY, tls: ANY, rules: ANY }, status: ANY }),
};

/** One field a kind does not have: where it is (`spec.replica`) and the object holding it. */
export interface UnknownField {
  path: string;
  parent: Record<string, unknown>;
  key: string;
}

function walk(v: unknown, shape: Shape, at: string, out: UnknownField[]): void {
  if (shape === true || v === null || typeof v !== 'object') return;
  if (Array.isArray(shape)) {
    if (Array.isArray(v)) v.forEach((item, i) => walk(item, shape[0], `${at}[${i}]`, out));
    return;
  }
  if (Array.isArray(v)) return;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    const path = at ? `${at}.${k}` : k;
    const sub = Object.prototype.hasOwnProperty.call(shape, k) ? shape[k] : undefined;
    if (sub === undefined) out.push({ path, parent: o, key: k });
    else walk(o[k], sub, path, out);
  }
}

/** The fields of `obj` its built-in kind does not have, in document order; [] for custom resources. */
export function findUnknownFields(def: Pick<ResourceDef, 'key' | 'custom'>, obj: unknown): UnknownField[] {
  const shape = def.custom ? undefined : SHAPES[def.key];
  if (!shape) return [];
  const out: UnknownField[] = [];
  walk(obj, shape, '', out);
  return out;
}

/** Paths of the unknown fields of `obj` (`spec.replica`, `spec.template.spec.containers[0].imagePullPolice`). */
export function unknownFields(def: Pick<ResourceDef, 'key' | 'custom'>, obj: unknown): string[] {
  return findUnknownFields(def, obj).map((f) => f.path);
}

/** Removes the fields found (from the object findUnknownFields walked). */
export function dropUnknownFields(found: UnknownField[]): void {
  for (const f of found) delete f.parent[f.key];
}

/** The paths of `found` that `old` (the stored version) does not have too: what a write introduces. */
export function introduced(def: Pick<ResourceDef, 'key' | 'custom'>, found: UnknownField[], old: unknown): string[] {
  const paths = found.map((f) => f.path);
  if (!paths.length || old === undefined) return paths;
  const before = new Set(unknownFields(def, old));
  return paths.filter((p) => !before.has(p));
}

/** kube-apiserver's message for a Strict write with unknown fields. */
export function strictDecodingMessage(def: Pick<ResourceDef, 'kind' | 'versions'>, version: string | undefined, fields: string[]): string {
  return `${def.kind} in version "${version ?? def.versions[0]}" cannot be handled as a ${def.kind}: strict decoding error: ${fields.map((f) => `unknown field "${f}"`).join(', ')}`;
}

/** kube-apiserver's warning for a dropped field (`Warn`). */
export function unknownFieldWarning(path: string): string {
  return `unknown field "${path}"`;
}
