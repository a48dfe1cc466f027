// A small in-memory time-series database: the sandbox's Prometheus storage. Series are identified by
// their full label set (including `__name__`); samples are kept in a ring buffer per series covering
// the retention window. A series can be marked stale (its pod went away) so instant queries stop
// returning it at once, as Prometheus does with staleness markers.

export type Labels = Record<string, string>;

export interface Sample {
  /** Milliseconds since the epoch. */
  t: number;
  v: number;
}

export type MatchType = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  type: MatchType;
  value: string;
}

/** Canonical identity of a label set: sorted `name="value"` pairs. */
export function labelsKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  let s = '';
  for (const k of keys) s += `${k}=${JSON.stringify(labels[k])},`;
  return s;
}

const regexCache = new Map<string, RegExp>();

/** Prometheus regex matchers are fully anchored RE2; JavaScript RegExp covers the common subset. */
export function anchoredRegex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`, 's');
    if (regexCache.size > 1000) regexCache.clear();
    regexCache.set(source, re);
  }
  return re;
}

export function matches(labels: Labels, m: LabelMatcher): boolean {
  const v = labels[m.name] ?? '';
  switch (m.type) {
    case '=':
      return v === m.value;
    case '!=':
      return v !== m.value;
    case '=~':
      return anchoredRegex(m.value).test(v);
    case '!~':
      return !anchoredRegex(m.value).test(v);
  }
}

export class Series {
  private ts: Float64Array;
  private vs: Float64Array;
  private head = 0;
  private size = 0;
  /** Time from which the series is stale (no longer exported), if it is. */
  staleAt: number | undefined;

  constructor(
    readonly labels: Labels,
    readonly key: string,
    private readonly capacity: number,
  ) {
    const initial = Math.min(capacity, 16);
    this.ts = new Float64Array(initial);
    this.vs = new Float64Array(initial);
  }

  get length(): number {
    return this.size;
  }

  append(t: number, v: number): void {
    this.staleAt = undefined;
    if (this.size > 0 && t <= this.at(this.size - 1).t) {
      // Same or earlier timestamp: replace the last value (scrapes are monotonic; keep it simple).
      const i = (this.head + this.size - 1) % this.ts.length;
      this.vs[i] = v;
      return;
    }
    if (this.size === this.ts.length && this.ts.length < this.capacity) this.grow();
    if (this.size === this.ts.length) {
      // Full at capacity: overwrite the oldest sample.
      this.ts[this.head] = t;
      this.vs[this.head] = v;
      this.head = (this.head + 1) % this.ts.length;
      return;
    }
    const i = (this.head + this.size) % this.ts.length;
    this.ts[i] = t;
    this.vs[i] = v;
    this.size++;
  }

  at(i: number): Sample {
    const j = (this.head + i) % this.ts.length;
    return { t: this.ts[j], v: this.vs[j] };
  }

  /** Samples with from < t <= to, oldest first. */
  range(from: number, to: number): Sample[] {
    const out: Sample[] = [];
    for (let i = this.firstAfter(from); i < this.size; i++) {
      const s = this.at(i);
      if (s.t > to) break;
      out.push(s);
    }
    return out;
  }

  /** The latest sample with from < t <= to, if any. */
  latest(from: number, to: number): Sample | undefined {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).t <= to) lo = mid + 1;
      else hi = mid;
    }
    if (lo === 0) return undefined;
    const s = this.at(lo - 1);
    return s.t > from ? s : undefined;
  }

  /** Drop samples at or before `t`. */
  trim(t: number): void {
    while (this.size > 0 && this.ts[this.head] <= t) {
      this.head = (this.head + 1) % this.ts.length;
      this.size--;
    }
  }

  private firstAfter(t: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.at(mid).t <= t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private grow(): void {
    const n = Math.min(this.capacity, this.ts.length * 2);
    const ts = new Float64Array(n);
    const vs = new Float64Array(n);
    for (let i = 0; i < this.size; i++) {
      const j = (this.head + i) % this.ts.length;
      ts[i] = this.ts[j];
      vs[i] = this.vs[j];
    }
    this.ts = ts;
    this.vs = vs;
    this.head = 0;
  }
}

export interface TsdbOptions {
  /** How long samples are kept, ms (default 1 h). */
  retentionMs?: number;
  /** Expected sample spacing, ms; sizes the ring buffers (default 5 s). */
  scrapeIntervalMs?: number;
}

export class Tsdb {
  readonly retentionMs: number;
  readonly scrapeIntervalMs: number;
  private readonly byKey = new Map<string, Series>();
  private readonly byName = new Map<string, Set<Series>>();
  private readonly capacity: number;

  constructor(options: TsdbOptions = {}) {
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.scrapeIntervalMs = options.scrapeIntervalMs ?? 5_000;
    this.capacity = Math.ceil(this.retentionMs / this.scrapeIntervalMs) + 4;
  }

  get seriesCount(): number {
    return this.byKey.size;
  }

  /** Appends a sample. The series keeps `labels` as given (shared, not copied): never mutate them afterwards. */
  append(labels: Labels, t: number, v: number, key = labelsKey(labels)): Series {
    let s = this.byKey.get(key);
    if (!s) {
      s = new Series(labels, key, this.capacity);
      this.byKey.set(key, s);
      const name = labels.__name__ ?? '';
      let set = this.byName.get(name);
      if (!set) this.byName.set(name, (set = new Set()));
      set.add(s);
    }
    s.append(t, v);
    return s;
  }

  markStale(key: string, t: number): void {
    const s = this.byKey.get(key);
    if (s && s.staleAt === undefined) s.staleAt = t;
  }

  /** Series matching every matcher (an equality matcher on `__name__` uses the name index). */
  select(matchers: LabelMatcher[]): Series[] {
    const nameEq = matchers.find((m) => m.name === '__name__' && m.type === '=');
    let candidates: Iterable<Series>;
    if (nameEq) candidates = this.byName.get(nameEq.value) ?? [];
    else candidates = this.byKey.values();
    const out: Series[] = [];
    for (const s of candidates) if (matchers.every((m) => matches(s.labels, m))) out.push(s);
    return out;
  }

  /** Forget samples older than the retention window and series with none left. */
  compact(now: number): void {
    const cutoff = now - this.retentionMs;
    for (const [key, s] of this.byKey) {
      s.trim(cutoff);
      if (s.length === 0) {
        this.byKey.delete(key);
        this.byName.get(s.labels.__name__ ?? '')?.delete(s);
      }
    }
  }
}
