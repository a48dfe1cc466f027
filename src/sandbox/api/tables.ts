// Server-side Table output (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`), which kubectl asks
// for on `get` with the default and `-o wide` output. Columns follow kube-apiserver's printers
// (pkg/printers/internalversion) and the Istio / Gateway API CRD printer columns.
import { isPlainObject } from './json';
import type { ResourceDef } from './resources';
import { labelSelectorString, type LabelSelectorObject } from './selectors';
import type { KubeObject } from './store';

export interface ColumnDefinition {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format: string;
  description: string;
  priority: number;
}

type Cell = string | number | boolean;
type Obj = Record<string, unknown>;

interface Printer {
  /** The printer lists Name itself (events: last, wide only) instead of first. */
  ownName?: boolean;
  columns: [name: string, type: ColumnDefinition['type'], priority?: number, format?: string][];
  cells(o: KubeObject, now: number): Cell[];
}

/** kubectl's duration.HumanDuration, used for AGE and LAST SEEN. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 192) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

function age(ts: unknown, now: number): string {
  if (typeof ts !== 'string') return '<unknown>';
  const t = Date.parse(ts);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(now - t);
}

const g = (o: unknown, ...path: string[]): unknown => {
  let cur = o;
  for (const p of path) cur = isPlainObject(cur) ? cur[p] : undefined;
  return cur;
};
const num = (v: unknown): number => (typeof v === 'number' ? v : 0);
const str = (v: unknown, dflt = '<none>'): string => (typeof v === 'string' && v !== '' ? v : dflt);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** CRD printer columns print a JSONPath result: nothing when absent, JSON for lists. */
const jsonCell = (v: unknown): string => (v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v));
const join = (v: string[], dflt = '<none>'): string => (v.length ? v.join(',') : dflt);

function containersOf(template: unknown): { names: string; images: string } {
  const cs = arr(g(template, 'spec', 'containers'));
  return { names: join(cs.map((c) => str(g(c, 'name'), ''))), images: join(cs.map((c) => str(g(c, 'image'), ''))) };
}

function podStatus(o: KubeObject): { ready: string; status: string; restarts: number } {
  const spec = (o.spec ?? {}) as Obj;
  const st = (o.status ?? {}) as Obj;
  const total = arr(spec.containers).length;
  let readyN = 0;
  let restarts = 0;
  let reason = str(st.reason, '') || str(st.phase, 'Pending');
  for (const c of arr(st.initContainerStatuses)) {
    const term = g(c, 'state', 'terminated');
    if (term && num(g(term, 'exitCode')) === 0) continue;
    const waiting = str(g(c, 'state', 'waiting', 'reason'), '');
    if (waiting && waiting !== 'PodInitializing') reason = `Init:${waiting}`;
  }
  let anyRunning = false;
  for (const c of arr(st.containerStatuses).slice().reverse()) {
    restarts += num(g(c, 'restartCount'));
    const waiting = str(g(c, 'state', 'waiting', 'reason'), '');
    const terminated = g(c, 'state', 'terminated');
    if (waiting) reason = waiting;
    else if (terminated) {
      reason = str(g(terminated, 'reason'), '') || (g(terminated, 'signal') ? `Signal:${num(g(terminated, 'signal'))}` : `ExitCode:${num(g(terminated, 'exitCode'))}`);
    } else if (g(c, 'ready') === true && g(c, 'state', 'running')) {
      readyN++;
      anyRunning = true;
    } else if (g(c, 'state', 'running')) anyRunning = true;
  }
  if (reason === 'Completed' && anyRunning) reason = 'Running';
  if (o.metadata.deletionTimestamp) reason = st.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { ready: `${readyN}/${total}`, status: reason, restarts };
}

function servicePorts(o: KubeObject): string {
  const ports = arr(g(o, 'spec', 'ports')).map((p) => {
    const np = g(p, 'nodePort');
    return `${num(g(p, 'port'))}${np ? `:${String(np)}` : ''}/${str(g(p, 'protocol'), 'TCP')}`;
  });
  return join(ports);
}

function endpointsText(o: KubeObject): string {
  const out: string[] = [];
  let total = 0;
  for (const s of arr(o.subsets)) {
    const ports = arr(g(s, 'ports'));
    for (const a of arr(g(s, 'addresses'))) {
      const ip = str(g(a, 'ip'), '');
      if (ports.length === 0) {
        total++;
        if (out.length < 3) out.push(ip);
      }
      for (const p of ports) {
        total++;
        if (out.length < 3) out.push(`${ip}:${num(g(p, 'port'))}`);
      }
    }
  }
  if (total === 0) return '<none>';
  return total > 3 ? `${out.join(',')} + ${total - 3} more...` : out.join(',');
}

function jobStatus(o: KubeObject): string {
  const conds = arr(g(o, 'status', 'conditions'));
  const has = (t: string) => conds.some((c) => g(c, 'type') === t && g(c, 'status') === 'True');
  if (has('Complete')) return 'Complete';
  if (has('Failed')) return 'Failed';
  if (has('Suspended')) return 'Suspended';
  if (has('FailureTarget')) return 'FailureTarget';
  if (o.metadata.deletionTimestamp) return 'Terminating';
  return 'Running';
}

/** kubectl's STATUS of a Node: Ready / NotReady / Unknown, plus SchedulingDisabled when cordoned. */
function nodeStatus(o: KubeObject): string {
  const ready = arr(g(o, 'status', 'conditions')).find((c) => g(c, 'type') === 'Ready');
  const s = g(ready, 'status');
  const out = [s === 'True' ? 'Ready' : s === 'False' ? 'NotReady' : 'Unknown'];
  if (g(o, 'spec', 'unschedulable') === true) out.push('SchedulingDisabled');
  return out.join(',');
}

function nodeRoles(o: KubeObject): string {
  const roles = Object.keys(o.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .filter(Boolean);
  return roles.length ? roles.sort().join(',') : '<none>';
}

function nodeAddress(o: KubeObject, type: string): string {
  const a = arr(g(o, 'status', 'addresses')).find((x) => g(x, 'type') === type);
  return a ? str(g(a, 'address'), '<none>') : '<none>';
}

const PRINTERS: Record<string, Printer> = {
  nodes: {
    columns: [['Status', 'string'], ['Roles', 'string'], ['Age', 'string'], ['Version', 'string'], ['Internal-IP', 'string', 1], ['External-IP', 'string', 1], ['OS-Image', 'string', 1], ['Kernel-Version', 'string', 1], ['Container-Runtime', 'string', 1]],
    cells: (o, now) => [
      nodeStatus(o),
      nodeRoles(o),
      age(o.metadata.creationTimestamp, now),
      str(g(o, 'status', 'nodeInfo', 'kubeletVersion'), ''),
      nodeAddress(o, 'InternalIP'),
      nodeAddress(o, 'ExternalIP'),
      str(g(o, 'status', 'nodeInfo', 'osImage'), '<unknown>'),
      str(g(o, 'status', 'nodeInfo', 'kernelVersion'), '<unknown>'),
      str(g(o, 'status', 'nodeInfo', 'containerRuntimeVersion'), '<unknown>'),
    ],
  },
  namespaces: { columns: [['Status', 'string'], ['Age', 'string']], cells: (o, now) => [str(g(o, 'status', 'phase'), ''), age(o.metadata.creationTimestamp, now)] },
  pods: {
    columns: [['Ready', 'string'], ['Status', 'string'], ['Restarts', 'string'], ['Age', 'string'], ['IP', 'string', 1], ['Node', 'string', 1], ['Nominated Node', 'string', 1], ['Readiness Gates', 'string', 1]],
    cells: (o, now) => {
      const p = podStatus(o);
      return [p.ready, p.status, String(p.restarts), age(o.metadata.creationTimestamp, now), str(g(o, 'status', 'podIP')), str(g(o, 'spec', 'nodeName')), '<none>', '<none>'];
    },
  },
  services: {
    columns: [['Type', 'string'], ['Cluster-IP', 'string'], ['External-IP', 'string'], ['Port(s)', 'string'], ['Age', 'string'], ['Selector', 'string', 1]],
    cells: (o, now) => {
      const sel = g(o, 'spec', 'selector');
      const ext = arr(g(o, 'spec', 'externalIPs')) as string[];
      const type = str(g(o, 'spec', 'type'), 'ClusterIP');
      return [type, str(g(o, 'spec', 'clusterIP')), ext.length ? ext.join(',') : type === 'ExternalName' ? str(g(o, 'spec', 'externalName')) : '<none>', servicePorts(o), age(o.metadata.creationTimestamp, now), isPlainObject(sel) ? join(Object.entries(sel).map(([k, v]) => `${k}=${String(v)}`)) : '<none>'];
    },
  },
  endpoints: { columns: [['Endpoints', 'string'], ['Age', 'string']], cells: (o, now) => [endpointsText(o), age(o.metadata.creationTimestamp, now)] },
  configmaps: { columns: [['Data', 'integer'], ['Age', 'string']], cells: (o, now) => [Object.keys((o.data as Obj) ?? {}).length + Object.keys((o.binaryData as Obj) ?? {}).length, age(o.metadata.creationTimestamp, now)] },
  secrets: { columns: [['Type', 'string'], ['Data', 'integer'], ['Age', 'string']], cells: (o, now) => [str(o.type, 'Opaque'), Object.keys((o.data as Obj) ?? {}).length, age(o.metadata.creationTimestamp, now)] },
  events: {
    ownName: true,
    columns: [['Last Seen', 'string'], ['Type', 'string'], ['Reason', 'string'], ['Object', 'string'], ['Subobject', 'string', 1], ['Source', 'string', 1], ['Message', 'string'], ['First Seen', 'string', 1], ['Count', 'string', 1], ['Name', 'string', 1]],
    cells: (o, now) => {
      const last = (o.lastTimestamp as string) || (o.eventTime as string) || (g(o, 'series', 'lastObservedTime') as string) || o.metadata.creationTimestamp;
      const first = (o.firstTimestamp as string) || (o.eventTime as string) || o.metadata.creationTimestamp;
      const io = (o.involvedObject ?? {}) as Obj;
      const src = str(g(o, 'source', 'component'), '') || str(o.reportingComponent, '');
      return [age(last, now), str(o.type, ''), str(o.reason, ''), `${String(io.kind ?? '').toLowerCase()}/${String(io.name ?? '')}`, str(io.fieldPath, ''), src, str(o.message, ''), age(first, now), String(num(o.count) || 1), o.metadata.name ?? ''];
    },
  },
  'deployments.apps': {
    columns: [['Ready', 'string'], ['Up-to-date', 'string'], ['Available', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells: (o, now) => {
      const c = containersOf(g(o, 'spec', 'template'));
      return [`${num(g(o, 'status', 'readyReplicas'))}/${num(g(o, 'spec', 'replicas'))}`, num(g(o, 'status', 'updatedReplicas')), num(g(o, 'status', 'availableReplicas')), age(o.metadata.creationTimestamp, now), c.names, c.images, labelSelectorString(g(o, 'spec', 'selector') as LabelSelectorObject) || '<none>'];
    },
  },
  'replicasets.apps': {
    columns: [['Desired', 'integer'], ['Current', 'integer'], ['Ready', 'integer'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells: (o, now) => {
      const c = containersOf(g(o, 'spec', 'template'));
      return [num(g(o, 'spec', 'replicas')), num(g(o, 'status', 'replicas')), num(g(o, 'status', 'readyReplicas')), age(o.metadata.creationTimestamp, now), c.names, c.images, labelSelectorString(g(o, 'spec', 'selector') as LabelSelectorObject) || '<none>'];
    },
  },
  'jobs.batch': {
    columns: [['Status', 'string'], ['Completions', 'string'], ['Duration', 'string'], ['Age', 'string'], ['Containers', 'string', 1], ['Images', 'string', 1], ['Selector', 'string', 1]],
    cells: (o, now) => {
      const c = containersOf(g(o, 'spec', 'template'));
      const start = Date.parse(String(g(o, 'status', 'startTime') ?? ''));
      const end = Date.parse(String(g(o, 'status', 'completionTime') ?? ''));
      const duration = Number.isNaN(start) ? '' : humanDuration((Number.isNaN(end) ? now : end) - start);
      return [jobStatus(o), `${num(g(o, 'status', 'succeeded'))}/${num(g(o, 'spec', 'completions')) || 1}`, duration, age(o.metadata.creationTimestamp, now), c.names, c.images, labelSelectorString(g(o, 'spec', 'selector') as LabelSelectorObject) || '<none>'];
    },
  },
  'leases.coordination.k8s.io': { columns: [['Holder', 'string'], ['Age', 'string']], cells: (o, now) => [str(g(o, 'spec', 'holderIdentity'), ''), age(o.metadata.creationTimestamp, now)] },
  'ingresses.networking.k8s.io': {
    columns: [['Class', 'string'], ['Hosts', 'string'], ['Address', 'string'], ['Ports', 'string'], ['Age', 'string']],
    cells: (o, now) => {
      const hosts = arr(g(o, 'spec', 'rules')).map((r) => str(g(r, 'host'), '*'));
      const addrs = arr(g(o, 'status', 'loadBalancer', 'ingress')).map((i) => str(g(i, 'ip'), '') || str(g(i, 'hostname'), ''));
      return [str(g(o, 'spec', 'ingressClassName')), join(hosts, '*'), addrs.join(','), arr(g(o, 'spec', 'tls')).length ? '80, 443' : '80', age(o.metadata.creationTimestamp, now)];
    },
  },
  'virtualservices.networking.istio.io': {
    columns: [['Gateways', 'string'], ['Hosts', 'string'], ['Age', 'date']],
    cells: (o, now) => [jsonCell(g(o, 'spec', 'gateways')), jsonCell(g(o, 'spec', 'hosts')), age(o.metadata.creationTimestamp, now)],
  },
  'destinationrules.networking.istio.io': { columns: [['Host', 'string'], ['Age', 'date']], cells: (o, now) => [str(g(o, 'spec', 'host'), ''), age(o.metadata.creationTimestamp, now)] },
  'httproutes.gateway.networking.k8s.io': { columns: [['Hostnames', 'string'], ['Age', 'date']], cells: (o, now) => [jsonCell(g(o, 'spec', 'hostnames')), age(o.metadata.creationTimestamp, now)] },
};

const DEFAULT_PRINTER: Printer = { columns: [['Age', 'string']], cells: (o, now) => [age(o.metadata.creationTimestamp, now)] };

const DESCRIPTIONS: Record<string, string> = {
  Name: 'Name must be unique within a namespace.',
  Age: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
};

export function columnsFor(def: ResourceDef): ColumnDefinition[] {
  const p = PRINTERS[def.key] ?? DEFAULT_PRINTER;
  const cols: ColumnDefinition[] = p.columns.map(([name, type, priority, format]) => ({ name, type, format: format ?? (name === 'Name' ? 'name' : ''), description: DESCRIPTIONS[name] ?? name, priority: priority ?? 0 }));
  return p.ownName ? cols : [{ name: 'Name', type: 'string', format: 'name', description: DESCRIPTIONS.Name, priority: 0 }, ...cols];
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableRow {
  cells: Cell[];
  object?: unknown;
}

export function tableRow(def: ResourceDef, o: KubeObject, now: number, include: IncludeObject): TableRow {
  const p = PRINTERS[def.key] ?? DEFAULT_PRINTER;
  const row: TableRow = { cells: p.ownName ? p.cells(o, now) : [o.metadata.name ?? '', ...p.cells(o, now)] };
  if (include === 'Object') row.object = o;
  else if (include === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
  return row;
}

export function toTable(def: ResourceDef, items: KubeObject[], now: number, include: IncludeObject, meta: { resourceVersion?: string; continue?: string; remainingItemCount?: number }, withColumns = true): unknown {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: meta,
    ...(withColumns ? { columnDefinitions: columnsFor(def) } : {}),
    rows: items.map((o) => tableRow(def, o, now, include)),
  };
}
