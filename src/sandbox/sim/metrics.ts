// Per-pod request metrics as an instrumented app would expose them, scraped into the sandbox's TSDB:
//   http_requests_total{namespace, service, pod, deployment, version, track, code, <pod labels>}
//   http_request_duration_seconds_bucket{..., le} (+ _sum, _count)
// Every pod label is copied as a Prometheus label with `/`, `.` and `-` turned into `_` (what the
// usual Kubernetes relabeling produces), so queries can select by `app`, `kube_delivery_dev_track`...
// Counters only grow; a scrape copies the current values into the TSDB at the scrape time. A pod's
// series go stale when the pod goes away.
import { Tsdb, type Labels, labelsKey } from './tsdb';

/** Prometheus client default buckets, seconds. */
export const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function sanitizeLabelName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

export interface PodIdentity {
  uid: string;
  namespace: string;
  pod: string;
  deployment?: string;
  version?: string;
  track?: string;
  podLabels: Record<string, string>;
}

interface Counter {
  labels: Labels;
  key: string;
  value: number;
}

interface PodSeries {
  id: PodIdentity;
  base: Labels;
  /** Request counters by status code. */
  codes: Map<number, Counter>;
  /** One counter per bucket of BUCKETS, then +Inf. */
  buckets: Counter[];
  sum: Counter;
  count: Counter;
  /** Every counter, for scraping. */
  all: Counter[];
}

/** Base labels of a pod's series (before `code` / `le`). */
export function podBaseLabels(id: PodIdentity, service: string): Labels {
  const labels: Labels = {};
  for (const [k, v] of Object.entries(id.podLabels)) labels[sanitizeLabelName(k)] = v;
  labels.namespace = id.namespace;
  labels.pod = id.pod;
  labels.service = service;
  labels.job = 'kubernetes-pods';
  if (id.deployment) labels.deployment = id.deployment;
  if (id.version) labels.version = id.version;
  if (id.track) labels.track = id.track;
  return labels;
}

export class MetricsRegistry {
  private readonly pods = new Map<string, PodSeries[]>();
  private readonly byKey = new Map<string, PodSeries>();
  private lastScrape = 0;

  constructor(readonly db: Tsdb) {}

  /** Records one served request. */
  observe(id: PodIdentity, service: string, code: number, seconds: number): void {
    const ps = this.series(id, service);
    let c = ps.codes.get(code);
    if (!c) {
      c = this.counter(ps, 'http_requests_total', { code: String(code) });
      ps.codes.set(code, c);
    }
    c.value++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) ps.buckets[i].value++;
    ps.buckets[BUCKETS.length].value++;
    ps.sum.value += seconds;
    ps.count.value++;
  }

  /** Copies every live counter into the TSDB at time `t` (a scrape). */
  scrape(t: number): void {
    this.lastScrape = t;
    for (const list of this.pods.values()) {
      for (const ps of list) for (const c of ps.all) this.db.append(c.labels, t, c.value, c.key);
    }
    this.db.compact(t);
  }

  /** The pod is gone: its series stop (stale from `t`). */
  forget(uid: string, t: number): void {
    const list = this.pods.get(uid);
    if (!list) return;
    for (const ps of list) {
      for (const c of ps.all) this.db.markStale(c.key, t);
      this.byKey.delete(`${uid}\0${ps.base.service}`);
    }
    this.pods.delete(uid);
  }

  livePods(): number {
    return this.pods.size;
  }

  private series(id: PodIdentity, service: string): PodSeries {
    // Identities are rebuilt when pod labels change, so the identity object is part of the key.
    const k = `${id.uid}\0${service}`;
    let ps = this.byKey.get(k);
    if (ps && ps.id !== id) {
      if (labelsKey(podBaseLabels(id, service)) !== labelsKey(ps.base)) {
        // Relabelled pod: the old series end here, new ones start.
        const old = ps;
        for (const c of old.all) this.db.markStale(c.key, this.lastScrape);
        const list = this.pods.get(id.uid);
        if (list) list.splice(list.indexOf(old), 1);
        ps = undefined;
      } else ps.id = id;
    }
    if (!ps) {
      const base = podBaseLabels(id, service);
      const fresh: PodSeries = { id, base, codes: new Map(), buckets: [], sum: undefined as unknown as Counter, count: undefined as unknown as Counter, all: [] };
      // Histogram buckets exist from the first request, all at zero, as a client library exposes them.
      fresh.buckets = [...BUCKETS.map(String), '+Inf'].map((le) => this.counter(fresh, 'http_request_duration_seconds_bucket', { le }));
      fresh.sum = this.counter(fresh, 'http_request_duration_seconds_sum', {});
      fresh.count = this.counter(fresh, 'http_request_duration_seconds_count', {});
      ps = fresh;
      this.byKey.set(k, ps);
      let list = this.pods.get(id.uid);
      if (!list) this.pods.set(id.uid, (list = []));
      list.push(ps);
    }
    return ps;
  }

  private counter(ps: PodSeries, name: string, extra: Labels): Counter {
    const labels = { ...ps.base, ...extra, __name__: name };
    const c: Counter = { labels, key: labelsKey(labels), value: 0 };
    ps.all.push(c);
    return c;
  }
}
