// How a simulated workload behaves, chosen by its image so a demo or a test picks a failure by
// picking an image. The table is ordered; every matching rule applies on top of the defaults in order
// (so `app:2.0-slow-errors` starts slowly AND answers errors). Rules match the image *tag* (the part
// after the last `:` of the last path segment; the name when there is no tag), so a repository called
// `crash-reporter` stays healthy. A number right after the marker sets the rule's parameter:
// `-errors30` = 30 % errors, `-latency800` = +800 ms, `-slow90` = 90 s start.

export interface LatencyModel {
  /** Median request latency, ms. */
  medianMs: number;
  /** 99th percentile request latency, ms (log-normal spread between median and p99). */
  p99Ms: number;
  /** Constant extra latency added to every request, ms. */
  extraMs: number;
}

export interface Behaviour {
  /** Pod creation to container running (image pull + start), ms. */
  startDelayMs: number;
  /** Container running to Ready (readiness probe passes), ms. */
  readyDelayMs: number;
  /** Readiness never passes: Running, Ready False (ContainersNotReady). */
  unready: boolean;
  /** The container exits shortly after each start: CrashLoopBackOff with rising restartCount. */
  crash: boolean;
  /** Running time before each crash, ms. */
  crashAfterMs: number;
  /** Exit code of a crash. */
  crashExitCode: number;
  /** What the crashing process prints last (shown by `kubectl logs --previous`). */
  crashMessage: string;
  /** Share of requests answered with `errorCode`, 0..1. */
  errorRate: number;
  errorCode: number;
  latency: LatencyModel;
  /** Jobs (test images): how long the run takes and whether it passes. */
  jobDurationMs: number;
  jobSucceeds: boolean;
  /** The last log line of a failing job, saying why. */
  jobFailMessage: string;
}

export interface BehaviourRule {
  /** Marker searched in the image tag, e.g. `-crash`. */
  marker: string;
  description: string;
  /** Applies the rule; `param` is the number written right after the marker, if any. */
  apply: (b: Behaviour, param: number | undefined) => void;
}

/** JSON-serialisable override: `{ "marker": "-flaky", "set": { "errorRate": 0.3 } }`. */
export interface BehaviourOverride {
  marker: string;
  description?: string;
  set: Partial<Omit<Behaviour, 'latency'>> & { latency?: Partial<LatencyModel> };
}

export const DEFAULT_BEHAVIOUR: Readonly<Behaviour> = Object.freeze({
  startDelayMs: 3_000,
  readyDelayMs: 2_000,
  unready: false,
  crash: false,
  crashAfterMs: 2_000,
  crashExitCode: 2,
  crashMessage: 'panic: runtime error: invalid memory address or nil pointer dereference',
  // One request in 10,000: a healthy canary is measured on a few hundred requests per check, and at 0.1 %
  // the examples' 99.5 % success-rate checks failed a healthy image about once in 30 checks.
  errorRate: 0.0001,
  errorCode: 500,
  latency: Object.freeze({ medianMs: 40, p99Ms: 180, extraMs: 0 }),
  jobDurationMs: 8_000,
  jobSucceeds: true,
  jobFailMessage: '',
}) as Readonly<Behaviour>;

export const DEFAULT_RULES: readonly BehaviourRule[] = [
  {
    marker: '-crash',
    description: 'crash loop: exits after 2 s with a panic, CrashLoopBackOff, restartCount rising, never Ready',
    apply: (b) => {
      b.crash = true;
    },
  },
  {
    marker: '-unready',
    description: 'Running but the readiness probe never passes (Ready False, ContainersNotReady)',
    apply: (b) => {
      b.unready = true;
    },
  },
  {
    marker: '-slow',
    description: 'slow start: Ready after N s (default 45 s) instead of 5 s',
    apply: (b, n) => {
      b.readyDelayMs = (n ?? 45) * 1000;
    },
  },
  {
    marker: '-errors',
    description: 'answers N % of requests (default 12 %) with HTTP 500',
    apply: (b, n) => {
      b.errorRate = Math.min(100, n ?? 12) / 100;
    },
  },
  {
    marker: '-latency',
    description: 'adds N ms (default 300 ms) to every request',
    apply: (b, n) => {
      b.latency.extraMs += n ?? 300;
    },
  },
  {
    marker: '-slowreq',
    description: 'same as -latency',
    apply: (b, n) => {
      b.latency.extraMs += n ?? 300;
    },
  },
  {
    marker: '-fail',
    description: 'test Job images: the run fails after 8 s with a log line saying why',
    apply: (b) => {
      b.jobSucceeds = false;
      b.jobFailMessage = 'FAIL: expected HTTP 200 from the service under test, got 500 Internal Server Error';
    },
  },
];

/** The part of an image reference rules look at: the tag, else the last path segment. */
export function imageTag(image: string): string {
  const noDigest = image.split('@')[0];
  const last = noDigest.slice(noDigest.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon >= 0 ? last.slice(colon + 1) : last;
}

function cloneBehaviour(b: Readonly<Behaviour>): Behaviour {
  return { ...b, latency: { ...b.latency } };
}

export function overrideToRule(o: BehaviourOverride): BehaviourRule {
  return {
    marker: o.marker,
    description: o.description ?? `override: ${JSON.stringify(o.set)}`,
    apply: (b) => {
      const { latency, ...rest } = o.set;
      Object.assign(b, rest);
      if (latency) Object.assign(b.latency, latency);
    },
  };
}

const BEHAVIOUR_KEYS = new Set(Object.keys(DEFAULT_BEHAVIOUR));
const LATENCY_KEYS = new Set(Object.keys(DEFAULT_BEHAVIOUR.latency));

/** Validates an override from JSON (admin endpoint); returns an error message or the override. */
export function parseOverride(raw: unknown, where: string): BehaviourOverride | string {
  if (!raw || typeof raw !== 'object') return `${where}: expected an object {marker, set}`;
  const o = raw as Record<string, unknown>;
  if (typeof o.marker !== 'string' || !o.marker) return `${where}.marker: expected a non-empty string`;
  if (!o.set || typeof o.set !== 'object') return `${where}.set: expected an object of behaviour fields`;
  for (const [k, v] of Object.entries(o.set as Record<string, unknown>)) {
    if (!BEHAVIOUR_KEYS.has(k)) return `${where}.set.${k}: unknown field (known: ${[...BEHAVIOUR_KEYS].join(', ')})`;
    if (k === 'latency') {
      if (!v || typeof v !== 'object') return `${where}.set.latency: expected an object`;
      for (const [lk, lv] of Object.entries(v as Record<string, unknown>)) {
        if (!LATENCY_KEYS.has(lk)) return `${where}.set.latency.${lk}: unknown field (known: ${[...LATENCY_KEYS].join(', ')})`;
        if (typeof lv !== 'number' || !(lv >= 0)) return `${where}.set.latency.${lk}: expected a number >= 0`;
      }
      continue;
    }
    const expected = typeof (DEFAULT_BEHAVIOUR as unknown as Record<string, unknown>)[k];
    if (typeof v !== expected) return `${where}.set.${k}: expected a ${expected}`;
    if (k === 'errorRate' && ((v as number) < 0 || (v as number) > 1)) return `${where}.set.errorRate: expected a share between 0 and 1`;
  }
  return { marker: o.marker, description: typeof o.description === 'string' ? o.description : undefined, set: o.set as BehaviourOverride['set'] };
}

/** The behaviour table: defaults, ordered rules and runtime overrides (checked first... and applied last). */
export class BehaviourTable {
  private defaults: Behaviour;
  private overrides: BehaviourOverride[] = [];
  private readonly cache = new Map<string, Behaviour>();

  constructor(
    defaults: Partial<Omit<Behaviour, 'latency'>> & { latency?: Partial<LatencyModel> } = {},
    private readonly rules: readonly BehaviourRule[] = DEFAULT_RULES,
    overrides: BehaviourOverride[] = [],
  ) {
    this.defaults = mergeDefaults(defaults);
    this.overrides = [...overrides];
  }

  /** The behaviour of a container running `image`. */
  forImage(image: string): Behaviour {
    const hit = this.cache.get(image);
    if (hit) return hit;
    const b = cloneBehaviour(this.defaults);
    const tag = imageTag(image);
    for (const rule of [...this.rules, ...this.overrides.map(overrideToRule)]) {
      const param = matchMarker(tag, rule.marker);
      if (param !== null) rule.apply(b, param);
    }
    this.cache.set(image, b);
    return b;
  }

  setDefaults(defaults: Partial<Omit<Behaviour, 'latency'>> & { latency?: Partial<LatencyModel> }): void {
    this.defaults = mergeDefaults(defaults, this.defaults);
    this.cache.clear();
  }

  setOverrides(overrides: BehaviourOverride[]): void {
    this.overrides = [...overrides];
    this.cache.clear();
  }

  /** A JSON description of the table, for the admin endpoint and the docs. */
  describe(): { defaults: Behaviour; rules: { marker: string; description: string }[]; overrides: BehaviourOverride[] } {
    return {
      defaults: cloneBehaviour(this.defaults),
      rules: this.rules.map((r) => ({ marker: r.marker, description: r.description })),
      overrides: [...this.overrides],
    };
  }
}

function mergeDefaults(d: Partial<Omit<Behaviour, 'latency'>> & { latency?: Partial<LatencyModel> }, base: Readonly<Behaviour> = DEFAULT_BEHAVIOUR): Behaviour {
  const { latency, ...rest } = d;
  return { ...cloneBehaviour(base), ...rest, latency: { ...base.latency, ...(latency ?? {}) } };
}

/**
 * Whether `tag` contains `marker` as a whole marker (followed by end, `-`, `.`, `_` or digits), and
 * the number right after it. Returns null when it does not match.
 */
export function matchMarker(tag: string, marker: string): number | undefined | null {
  let from = 0;
  for (;;) {
    const at = tag.indexOf(marker, from);
    if (at < 0) return null;
    const rest = tag.slice(at + marker.length);
    const m = /^(\d+(?:\.\d+)?)?(?=$|[-._])/.exec(rest);
    if (m) return m[1] !== undefined ? Number(m[1]) : undefined;
    from = at + 1;
  }
}

/** Draws one request latency (ms) from a behaviour's log-normal model. */
export function sampleLatencyMs(b: Behaviour, normal: () => number): number {
  const { medianMs, p99Ms, extraMs } = b.latency;
  const sigma = p99Ms > medianMs && medianMs > 0 ? Math.log(p99Ms / medianMs) / 2.3263 : 0;
  return medianMs * Math.exp(sigma * normal()) + extraMs;
}
