// Defaulting and validation applied on every create/update, like kube-apiserver's registry
// strategies: the fields real clusters fill in (kubectl and the engine read several of them, e.g.
// Deployment strategy and progressDeadlineSeconds) and the checks that produce 422 Invalid.
import type { StatusCause } from './errors';
import { isPlainObject } from './json';
import type { ResourceDef } from './resources';
import { labelSelectorFromObject, type LabelSelectorObject } from './selectors';
import type { KubeObject } from './store';

type Obj = Record<string, unknown>;

function obj(o: Obj, k: string): Obj {
  if (!isPlainObject(o[k])) o[k] = {};
  return o[k] as Obj;
}

function setDefault(o: Obj, k: string, v: unknown): void {
  if (o[k] === undefined || o[k] === null) o[k] = v;
}

function defaultPodSpec(spec: Obj): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'schedulerName', 'default-scheduler');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  for (const list of ['containers', 'initContainers']) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    for (const c of cs) {
      if (!isPlainObject(c)) continue;
      setDefault(c, 'terminationMessagePath', '/dev/termination-log');
      setDefault(c, 'terminationMessagePolicy', 'File');
      setDefault(c, 'resources', {});
      if (typeof c.image === 'string') {
        const tag = /:([^/:@]+)$/.exec(c.image)?.[1];
        setDefault(c, 'imagePullPolicy', !tag || tag === 'latest' ? 'Always' : 'IfNotPresent');
      }
      if (Array.isArray(c.ports)) for (const p of c.ports) if (isPlainObject(p)) setDefault(p, 'protocol', 'TCP');
    }
  }
}

function defaultTemplate(spec: Obj): void {
  const t = spec.template;
  if (!isPlainObject(t)) return;
  const ps = t.spec;
  if (isPlainObject(ps)) defaultPodSpec(ps);
}

/** 10.96.x.y derived from the uid: stable per object, no allocator state needed. */
function clusterIPFor(uid: string): string {
  let h = 0;
  for (let i = 0; i < uid.length; i++) h = (h * 31 + uid.charCodeAt(i)) >>> 0;
  return `10.96.${(h >>> 8) & 255}.${Math.max(1, h & 255)}`;
}

export function applyDefaults(def: ResourceDef, o: KubeObject, old: KubeObject | undefined): void {
  const meta = o.metadata;
  switch (def.key) {
    case 'namespaces': {
      meta.labels = { ...(meta.labels ?? {}), 'kubernetes.io/metadata.name': meta.name ?? '' };
      const spec = obj(o, 'spec');
      setDefault(spec, 'finalizers', ['kubernetes']);
      if (!old) o.status = { phase: 'Active', ...(isPlainObject(o.status) ? o.status : {}) };
      break;
    }
    case 'pods':
      defaultPodSpec(obj(o, 'spec'));
      if (!old && !o.status) o.status = { phase: 'Pending', qosClass: 'BestEffort' };
      break;
    case 'deployments.apps': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      setDefault(spec, 'revisionHistoryLimit', 10);
      setDefault(spec, 'progressDeadlineSeconds', 600);
      const strategy = obj(spec, 'strategy');
      setDefault(strategy, 'type', 'RollingUpdate');
      if (strategy.type === 'RollingUpdate') {
        const ru = obj(strategy, 'rollingUpdate');
        setDefault(ru, 'maxSurge', '25%');
        setDefault(ru, 'maxUnavailable', '25%');
      }
      defaultTemplate(spec);
      break;
    }
    case 'replicasets.apps': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'replicas', 1);
      defaultTemplate(spec);
      break;
    }
    case 'jobs.batch': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'parallelism', 1);
      setDefault(spec, 'completions', 1);
      setDefault(spec, 'backoffLimit', 6);
      setDefault(spec, 'completionMode', 'NonIndexed');
      setDefault(spec, 'suspend', false);
      if (!spec.selector && meta.uid && !spec.manualSelector) {
        const t = obj(spec, 'template');
        const tm = obj(t, 'metadata');
        const labels = { ...((tm.labels as Record<string, string>) ?? {}) };
        labels['batch.kubernetes.io/controller-uid'] = meta.uid;
        labels['batch.kubernetes.io/job-name'] = meta.name ?? '';
        labels['controller-uid'] = meta.uid;
        labels['job-name'] = meta.name ?? '';
        tm.labels = labels;
        spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': meta.uid } };
      }
      const ps = obj(obj(spec, 'template'), 'spec');
      setDefault(ps, 'restartPolicy', 'Never');
      defaultPodSpec(ps);
      break;
    }
    case 'services': {
      const spec = obj(o, 'spec');
      setDefault(spec, 'type', 'ClusterIP');
      setDefault(spec, 'sessionAffinity', 'None');
      if (spec.type !== 'ExternalName') {
        if (old && isPlainObject(old.spec) && old.spec.clusterIP) spec.clusterIP ??= old.spec.clusterIP;
        if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = clusterIPFor(meta.uid ?? meta.name ?? '');
        if (spec.clusterIP !== 'None') setDefault(spec, 'clusterIPs', [spec.clusterIP]);
        setDefault(spec, 'ipFamilies', ['IPv4']);
        setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
        setDefault(spec, 'internalTrafficPolicy', 'Cluster');
      }
      if (Array.isArray(spec.ports)) {
        for (const p of spec.ports) {
          if (!isPlainObject(p)) continue;
          setDefault(p, 'protocol', 'TCP');
          setDefault(p, 'targetPort', p.port);
        }
      }
      if (!old && !o.status) o.status = { loadBalancer: {} };
      break;
    }
    case 'secrets': {
      setDefault(o as Obj, 'type', 'Opaque');
      if (isPlainObject(o.stringData)) {
        const data = obj(o, 'data');
        for (const [k, v] of Object.entries(o.stringData)) data[k] = Buffer.from(String(v)).toString('base64');
        delete o.stringData;
      }
      break;
    }
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** DNS-1123 label names (63 chars) for these kinds, subdomains (253) for the rest. */
const LABEL_NAMED = new Set(['namespaces', 'services']);

function required(field: string): StatusCause {
  return { type: 'FieldValueRequired', field, message: 'Required value' };
}

function validatePodSpec(spec: unknown, at: string, causes: StatusCause[]): void {
  if (!isPlainObject(spec)) {
    causes.push(required(at));
    return;
  }
  const cs = spec.containers;
  if (!Array.isArray(cs) || cs.length === 0) {
    causes.push(required(`${at}.containers`));
    return;
  }
  const names = new Set<string>();
  cs.forEach((c, i) => {
    const p = `${at}.containers[${i}]`;
    if (!isPlainObject(c)) return causes.push({ type: 'FieldValueInvalid', field: p, message: 'must be an object' });
    if (typeof c.name !== 'string' || !c.name) causes.push(required(`${p}.name`));
    else if (!DNS_LABEL.test(c.name)) causes.push({ type: 'FieldValueInvalid', field: `${p}.name`, message: `Invalid value: "${c.name}": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'` });
    else if (names.has(c.name)) causes.push({ type: 'FieldValueDuplicate', field: `${p}.name`, message: `Duplicate value: "${c.name}"` });
    else names.add(c.name);
    if (typeof c.image !== 'string' || !c.image.trim()) causes.push(required(`${p}.image`));
  });
}

function validateReplicas(spec: Obj, causes: StatusCause[]): void {
  const r = spec.replicas;
  if (r !== undefined && (typeof r !== 'number' || !Number.isInteger(r) || r < 0)) {
    causes.push({ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(r)}: must be greater than or equal to 0` });
  }
}

function validateSelectorTemplate(o: KubeObject, old: KubeObject | undefined, causes: StatusCause[]): void {
  const spec = (o.spec ?? {}) as Obj;
  validateReplicas(spec, causes);
  const sel = spec.selector as LabelSelectorObject | undefined;
  if (!isPlainObject(sel) || (Object.keys(sel.matchLabels ?? {}).length === 0 && (Array.isArray(sel.matchExpressions) ? sel.matchExpressions.length : 0) === 0)) {
    causes.push(required('spec.selector'));
  } else {
    const tm = isPlainObject(spec.template) && isPlainObject(spec.template.metadata) ? (spec.template.metadata.labels as Record<string, string> | undefined) : undefined;
    const oldSel = old ? ((old.spec as Obj | undefined)?.selector as LabelSelectorObject | undefined) : undefined;
    const unchanged = old !== undefined && JSON.stringify(oldSel) === JSON.stringify(sel);
    // The selector is immutable, so an update almost always carries the stored one: match with the
    // stored (frozen) object, whose compiled form is cached, instead of compiling the copy again.
    if (!labelSelectorFromObject(unchanged && oldSel ? oldSel : sel).matches(tm)) {
      causes.push({ type: 'FieldValueInvalid', field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(tm ?? {})}: \`selector\` does not match template \`labels\`` });
    }
    if (old && !unchanged) {
      causes.push({ type: 'FieldValueInvalid', field: 'spec.selector', message: `Invalid value: ${JSON.stringify(sel)}: field is immutable` });
    }
  }
  validatePodSpec(isPlainObject(spec.template) ? spec.template.spec : undefined, 'spec.template.spec', causes);
}

/** Returns the causes of a 422 Invalid (empty when the object is valid). */
export function validateObject(def: ResourceDef, o: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const meta = o.metadata;
  const name = meta.name;
  if (!name) causes.push({ type: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' });
  else if (LABEL_NAMED.has(def.key) ? !DNS_LABEL.test(name) || name.length > 63 : !DNS_SUBDOMAIN.test(name) || name.length > 253) {
    causes.push({ type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 ${LABEL_NAMED.has(def.key) ? 'label' : 'subdomain'} must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` });
  }
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    if (!LABEL_KEY.test(k)) causes.push({ type: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'` });
    if (typeof v !== 'string' || !LABEL_VALUE.test(v) || v.length > 63) causes.push({ type: 'FieldValueInvalid', field: 'metadata.labels', message: `Invalid value: ${JSON.stringify(v)}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'` });
  }
  for (const [k, v] of Object.entries(meta.annotations ?? {})) {
    if (typeof v !== 'string') causes.push({ type: 'FieldValueInvalid', field: `metadata.annotations`, message: `Invalid value: ${JSON.stringify(k)}: annotation values must be strings` });
  }
  switch (def.key) {
    case 'deployments.apps':
    case 'replicasets.apps':
      validateSelectorTemplate(o, old, causes);
      break;
    case 'jobs.batch': {
      const spec = (o.spec ?? {}) as Obj;
      validatePodSpec(isPlainObject(spec.template) ? spec.template.spec : undefined, 'spec.template.spec', causes);
      break;
    }
    case 'pods':
      validatePodSpec(o.spec, 'spec', causes);
      break;
    case 'services': {
      const spec = (o.spec ?? {}) as Obj;
      if (Array.isArray(spec.ports)) {
        spec.ports.forEach((p, i) => {
          const port = isPlainObject(p) ? p.port : undefined;
          if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
            causes.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].port`, message: `Invalid value: ${JSON.stringify(port)}: must be between 1 and 65535, inclusive` });
          }
        });
      }
      break;
    }
  }
  return causes;
}
