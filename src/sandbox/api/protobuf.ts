// Decoding of kubectl's protobuf request bodies (`application/vnd.kubernetes.protobuf`): kubectl 1.32
// sends `create deployment|configmap|namespace|service|secret|job` this way and does not retry with
// JSON after a 415. Wire format: the 4 magic bytes `k8s\0`, then a runtime.Unknown envelope whose `raw`
// holds the object's message. The descriptors below are hand-written from the field numbers of
// k8s.io/api and k8s.io/apimachinery generated.proto, covering the fields kubectl's generators set
// (unknown fields are skipped). Go marshals non-pointer fields even when zero, so zero values are
// dropped — except for pointer fields (KEEP_ZERO) such as `replicas: 0`, which mean what they say.
import protobuf from 'protobufjs';
import { ApiError, badRequest } from './errors';

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type FieldSpec = [id: number, type: string, rule?: 'repeated' | 'map', keyType?: string];
type MessageSpec = Record<string, FieldSpec>;

const str = (id: number): FieldSpec => [id, 'string'];
const i32 = (id: number): FieldSpec => [id, 'int32'];
const i64 = (id: number): FieldSpec => [id, 'int64'];
const bool = (id: number): FieldSpec => [id, 'bool'];
const msg = (id: number, type: string): FieldSpec => [id, type];
const rep = (id: number, type: string): FieldSpec => [id, type, 'repeated'];
const map = (id: number, type: string): FieldSpec => [id, type, 'map', 'string'];

const MESSAGES: Record<string, MessageSpec> = {
  TypeMeta: { apiVersion: str(1), kind: str(2) },
  Unknown: { typeMeta: msg(1, 'TypeMeta'), raw: [2, 'bytes'], contentEncoding: str(3), contentType: str(4) },
  Time: { seconds: i64(1), nanos: i32(2) },
  IntOrString: { type: i64(1), intVal: i32(2), strVal: str(3) },
  Quantity: { string: str(1) },
  OwnerReference: { kind: str(1), name: str(3), uid: str(4), apiVersion: str(5), controller: bool(6), blockOwnerDeletion: bool(7) },
  ObjectMeta: {
    name: str(1), generateName: str(2), namespace: str(3), uid: str(5), resourceVersion: str(6), generation: i64(7),
    creationTimestamp: msg(8, 'Time'), labels: map(11, 'string'), annotations: map(12, 'string'),
    ownerReferences: rep(13, 'OwnerReference'), finalizers: rep(14, 'string'),
  },
  LabelSelectorRequirement: { key: str(1), operator: str(2), values: rep(3, 'string') },
  LabelSelector: { matchLabels: map(1, 'string'), matchExpressions: rep(2, 'LabelSelectorRequirement') },
  ContainerPort: { name: str(1), hostPort: i32(2), containerPort: i32(3), protocol: str(4), hostIP: str(5) },
  EnvVar: { name: str(1), value: str(2) },
  ResourceRequirements: { limits: map(1, 'Quantity'), requests: map(2, 'Quantity') },
  VolumeMount: { name: str(1), readOnly: bool(2), mountPath: str(3), subPath: str(4) },
  Container: {
    name: str(1), image: str(2), command: rep(3, 'string'), args: rep(4, 'string'), workingDir: str(5), ports: rep(6, 'ContainerPort'),
    env: rep(7, 'EnvVar'), resources: msg(8, 'ResourceRequirements'), volumeMounts: rep(9, 'VolumeMount'), terminationMessagePath: str(13),
    imagePullPolicy: str(14), stdin: bool(16), stdinOnce: bool(17), tty: bool(18), terminationMessagePolicy: str(20),
  },
  LocalObjectReference: { name: str(1) },
  PodSpec: {
    containers: rep(2, 'Container'), restartPolicy: str(3), terminationGracePeriodSeconds: i64(4), activeDeadlineSeconds: i64(5),
    dnsPolicy: str(6), nodeSelector: map(7, 'string'), serviceAccountName: str(8), nodeName: str(10), hostNetwork: bool(11),
    imagePullSecrets: rep(15, 'LocalObjectReference'), hostname: str(16), subdomain: str(17), schedulerName: str(19),
    initContainers: rep(20, 'Container'), automountServiceAccountToken: bool(21), priorityClassName: str(24), enableServiceLinks: bool(30),
  },
  PodTemplateSpec: { metadata: msg(1, 'ObjectMeta'), spec: msg(2, 'PodSpec') },
  RollingUpdateDeployment: { maxUnavailable: msg(1, 'IntOrString'), maxSurge: msg(2, 'IntOrString') },
  DeploymentStrategy: { type: str(1), rollingUpdate: msg(2, 'RollingUpdateDeployment') },
  DeploymentSpec: {
    replicas: i32(1), selector: msg(2, 'LabelSelector'), template: msg(3, 'PodTemplateSpec'), strategy: msg(4, 'DeploymentStrategy'),
    minReadySeconds: i32(5), revisionHistoryLimit: i32(6), paused: bool(7), progressDeadlineSeconds: i32(9),
  },
  Deployment: { metadata: msg(1, 'ObjectMeta'), spec: msg(2, 'DeploymentSpec') },
  JobSpec: {
    parallelism: i32(1), completions: i32(2), activeDeadlineSeconds: i64(3), selector: msg(4, 'LabelSelector'), manualSelector: bool(5),
    template: msg(6, 'PodTemplateSpec'), backoffLimit: i32(7), ttlSecondsAfterFinished: i32(8), completionMode: str(9), suspend: bool(10),
  },
  Job: { metadata: msg(1, 'ObjectMeta'), spec: msg(2, 'JobSpec') },
  ConfigMap: { metadata: msg(1, 'ObjectMeta'), data: map(2, 'string'), binaryData: map(3, 'bytes'), immutable: bool(4) },
  Secret: { metadata: msg(1, 'ObjectMeta'), data: map(2, 'bytes'), type: str(3), stringData: map(4, 'string'), immutable: bool(5) },
  NamespaceSpec: { finalizers: rep(1, 'string') },
  Namespace: { metadata: msg(1, 'ObjectMeta'), spec: msg(2, 'NamespaceSpec') },
  ServicePort: { name: str(1), protocol: str(2), port: i32(3), targetPort: msg(4, 'IntOrString'), nodePort: i32(5), appProtocol: str(6) },
  ServiceSpec: {
    ports: rep(1, 'ServicePort'), selector: map(2, 'string'), clusterIP: str(3), type: str(4), externalIPs: rep(5, 'string'),
    sessionAffinity: str(7), loadBalancerIP: str(8), externalName: str(10), externalTrafficPolicy: str(11),
    publishNotReadyAddresses: bool(13), clusterIPs: rep(18, 'string'), ipFamilyPolicy: str(17), ipFamilies: rep(19, 'string'),
    internalTrafficPolicy: str(22),
  },
  Service: { metadata: msg(1, 'ObjectMeta'), spec: msg(2, 'ServiceSpec') },
  ServiceBackendPort: { name: str(1), number: i32(2) },
  IngressServiceBackend: { name: str(1), port: msg(2, 'ServiceBackendPort') },
  TypedLocalObjectReference: { apiGroup: str(1), kind: str(2), name: str(3) },
  IngressBackend: { service: msg(4, 'IngressServiceBackend'), resource: msg(3, 'TypedLocalObjectReference') },
  HTTPIngressPath: { path: str(1), pathType: str(3), backend: msg(2, 'IngressBackend') },
  HTTPIngressRuleValue: { paths: rep(1, 'HTTPIngressPath') },
  IngressRuleValue: { http: msg(1, 'HTTPIngressRuleValue') },
  IngressRule: { host: str(1), ingressRuleValue: msg(2, 'IngressRuleValue') },
  IngressTLS: { hosts: rep(1, 'string'), secretName: str(2) },
  IngressSpec: { ingressClassName: str(4), defaultBackend: msg(1, 'IngressBackend'), tls: rep(2, 'IngressTLS'), rules: rep(3, 'IngressRule') },
  Ingress: { metadata: msg(1, 'ObjectMeta'), spec: msg(2, 'IngressSpec') },
};

/** Go embedded structs (`json:",inline"`): their fields appear directly in the parent's JSON. */
const INLINE = new Set(['IngressRule.ingressRuleValue']);

/** Pointer fields in Go: present means set, even when zero. */
const KEEP_ZERO = new Set([
  'DeploymentSpec.replicas', 'DeploymentSpec.revisionHistoryLimit', 'DeploymentSpec.progressDeadlineSeconds',
  'PodSpec.terminationGracePeriodSeconds', 'PodSpec.activeDeadlineSeconds', 'PodSpec.automountServiceAccountToken', 'PodSpec.enableServiceLinks',
  'JobSpec.parallelism', 'JobSpec.completions', 'JobSpec.activeDeadlineSeconds', 'JobSpec.backoffLimit', 'JobSpec.ttlSecondsAfterFinished',
  'JobSpec.manualSelector', 'JobSpec.suspend', 'ConfigMap.immutable', 'Secret.immutable', 'OwnerReference.controller',
  'OwnerReference.blockOwnerDeletion', 'ServicePort.nodePort',
]);

/** apiVersion/kind → top-level message. */
const KINDS: Record<string, string> = {
  'apps/v1/Deployment': 'Deployment',
  'batch/v1/Job': 'Job',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Namespace': 'Namespace',
  'v1/Service': 'Service',
  'networking.k8s.io/v1/Ingress': 'Ingress',
};

let root: protobuf.Root | undefined;

function types(): protobuf.Root {
  if (root) return root;
  const nested: Record<string, { edition: string; fields: Record<string, { id: number; type: string; rule?: string; keyType?: string }> }> = {};
  for (const [name, fields] of Object.entries(MESSAGES)) {
    // k8s.io/api is proto2: explicit field presence, so a pointer field sent as 0 stays visible.
    nested[name] = { edition: 'proto2', fields: {} };
    for (const [f, [id, type, rule, keyType]] of Object.entries(fields)) {
      nested[name].fields[f] = { id, type, ...(rule === 'repeated' ? { rule } : {}), ...(keyType ? { keyType } : {}) };
    }
  }
  root = protobuf.Root.fromJSON({ nested: { k8s: { nested } } });
  return root;
}

function isZero(v: unknown): boolean {
  return v === '' || v === 0 || v === false || v === null || v === undefined;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v) return (v as { toNumber(): number }).toNumber();
  return Number(v);
}

function timeString(t: Record<string, unknown>): string | undefined {
  const s = toNumber(t.seconds ?? 0);
  if (!s) return undefined;
  return new Date(s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Converts a decoded message to its Kubernetes JSON form, dropping Go zero values. */
function convert(type: protobuf.Type, m: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of type.fieldsArray) {
    // Decoded messages carry defaults on the prototype: only own properties were on the wire.
    if (!Object.prototype.hasOwnProperty.call(m, field.name)) continue;
    const v = m[field.name];
    if (v === undefined || v === null) continue;
    const keep = KEEP_ZERO.has(`${type.name}.${field.name}`);
    const value = convertValue(field, v);
    if (value === undefined) continue;
    if (!keep && isZero(value)) continue;
    if (!keep && Array.isArray(value) && value.length === 0) continue;
    if (!keep && typeof value === 'object' && !Array.isArray(value) && Object.keys(value as object).length === 0) continue;
    if (INLINE.has(`${type.name}.${field.name}`) && typeof value === 'object') Object.assign(out, value);
    else out[field.name] = value;
  }
  return out;
}

function convertScalar(field: protobuf.Field, v: unknown): unknown {
  const rt = field.resolvedType;
  if (rt instanceof protobuf.Type) {
    const o = v as Record<string, unknown>;
    if (rt.name === 'Time') return timeString(o);
    if (rt.name === 'Quantity') return (o.string as string) || undefined;
    if (rt.name === 'IntOrString') return toNumber(o.type ?? 0) === 1 ? (o.strVal as string) ?? '' : toNumber(o.intVal ?? 0);
    return convert(rt, o);
  }
  if (field.type === 'bytes') return Buffer.from(v as Uint8Array).toString('base64');
  if (field.type === 'int64') return toNumber(v);
  return v;
}

function convertValue(field: protobuf.Field, v: unknown): unknown {
  if (field instanceof protobuf.MapField) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = convertScalar(field, x);
    return out;
  }
  if (field.repeated) return (v as unknown[]).map((x) => convertScalar(field, x));
  return convertScalar(field, v);
}

/** Decodes a `k8s\0` protobuf body into the JSON object it stands for. */
export function decodeProtobuf(buf: Buffer): Record<string, unknown> {
  if (buf.length < 4 || !buf.subarray(0, 4).equals(MAGIC)) throw badRequest('protobuf body does not start with the k8s\\0 magic prefix');
  const r = types();
  const Unknown = r.lookupType('k8s.Unknown');
  let env: Record<string, unknown>;
  try {
    env = Unknown.decode(buf.subarray(4)) as unknown as Record<string, unknown>;
  } catch (e) {
    throw badRequest(`error decoding protobuf envelope: ${(e as Error).message}`);
  }
  const tm = (env.typeMeta ?? {}) as { apiVersion?: string; kind?: string };
  const msgName = KINDS[`${tm.apiVersion}/${tm.kind}`];
  if (!msgName) {
    throw new ApiError(415, 'UnsupportedMediaType', `the sandbox cannot decode protobuf for ${tm.apiVersion ?? '?'} ${tm.kind ?? '?'}; send application/json`);
  }
  const T = r.lookupType(`k8s.${msgName}`);
  let decoded: protobuf.Message;
  try {
    decoded = T.decode((env.raw as Uint8Array) ?? new Uint8Array());
  } catch (e) {
    throw badRequest(`error decoding protobuf ${tm.kind}: ${(e as Error).message}`);
  }
  const obj = convert(T, decoded as unknown as Record<string, unknown>);
  return { apiVersion: tm.apiVersion, kind: tm.kind, metadata: {}, ...obj };
}
