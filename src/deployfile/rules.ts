// Semantic rules (KD1xx): what a JSON Schema cannot say. Each rule reads the plain document value
// defensively (schema errors may sit beside it) and points at the key or value at fault.
import type { Diagnostic, Range } from './model';
import type { RawDocument } from './yamlDoc';
import { anchorRange, keyRangeAt, valueRangeAt } from './locate';
import { cronError } from './cron';
import { parseDuration } from './duration';
import { isImageError, parseImage } from './image';
import { closest } from './suggest';
import { escapeSegment } from './ranges';
import { minRequestsDefault } from './build';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

class Rules {
  readonly out: Diagnostic[] = [];
  constructor(readonly doc: RawDocument) {}

  add(code: string, severity: Diagnostic['severity'], message: string, range: Range, fix?: Diagnostic['fix']): void {
    this.out.push(fix ? { code, severity, message, range, fix } : { code, severity, message, range });
  }

  line(pointer: string): number {
    return valueRangeAt(this.doc, pointer).start.line + 1;
  }
}

export function ruleDiagnostics(doc: RawDocument): Diagnostic[] {
  const r = new Rules(doc);
  const root = doc.value;
  if (!isObj(root)) return r.out;
  const spec = isObj(root.spec) ? root.spec : undefined;
  if (!spec) return r.out;
  const testNames = isObj(spec.tests) ? Object.keys(spec.tests) : [];

  checkImage(r, '/spec/image', spec.image);
  checkEnvironments(r, arr(spec.environments));
  if (isObj(spec.tests)) {
    for (const [name, t] of Object.entries(spec.tests)) {
      if (!isObj(t)) continue;
      const p = `/spec/tests/${escapeSegment(name)}`;
      checkImage(r, `${p}/image`, t.image);
      checkPositiveDuration(r, `${p}/timeout`, t.timeout);
    }
  }
  const strategy = isObj(spec.strategy) ? spec.strategy : undefined;
  if (strategy) {
    const type = strategy.type;
    checkTestRefs(r, '/spec/strategy/tests', strategy.tests, testNames);
    if (type === 'canary') checkCanary(r, strategy, testNames);
    if (type === 'blueGreen' && isObj(strategy.analysis)) {
      checkAnalysis(r, '/spec/strategy/analysis', strategy.analysis);
      // Blue-green analysis measures the new colour's share of live traffic: without a share it never
      // has data, and "no data" stops the run for a human every time.
      if (strategy.previewWeight === undefined || strategy.previewWeight === 0) {
        r.add('KD122', 'warning', 'this analysis measures the new colour\'s live traffic, but `previewWeight` is 0 so it gets none: every check would be "no data" and the run would wait for you; set `previewWeight` (e.g. 10) or remove `analysis`', keyRangeAt(doc, '/spec/strategy/analysis'));
      }
    }
    if (type === 'simple') {
      checkPositiveDuration(r, '/spec/strategy/timeout', strategy.timeout);
      if (isZero(strategy.maxSurge) && isZero(strategy.maxUnavailable)) {
        r.add('KD120', 'error', '`maxSurge` and `maxUnavailable` cannot both be 0: the rollout could never replace a pod; allow one surge pod or one unavailable pod', valueRangeAt(doc, '/spec/strategy/maxUnavailable'));
      }
    }
  }
  return r.out;
}

function isZero(v: unknown): boolean {
  return v === 0 || v === '0%';
}

function checkImage(r: Rules, pointer: string, image: unknown): void {
  if (typeof image !== 'string' || !image) return;
  const parsed = parseImage(image);
  const range = valueRangeAt(r.doc, pointer);
  if (isImageError(parsed)) {
    r.add('KD116', 'error', `\`${image}\` is not an image reference: ${parsed.error}`, range);
    return;
  }
  if (parsed.digest) return;
  // Quoted scalars include their quotes in the range: insert before the closing quote.
  const quoted = range.start.line === range.end.line && range.end.character - range.start.character === image.length + 2;
  const end = { line: range.end.line, character: range.end.character - (quoted ? 1 : 0) };
  if (!parsed.tag) {
    r.add('KD117', 'warning', `\`${image}\` has no tag, so it means \`:latest\` and a rollout is not reproducible: pin a version tag`, range, {
      title: 'Add a version tag',
      edits: [{ range: { start: end, end }, newText: ':${1:1.0.0}' }],
      snippet: true,
    });
  } else if (parsed.tag === 'latest') {
    const start = { line: end.line, character: end.character - 'latest'.length };
    r.add('KD117', 'warning', `\`${image}\` uses \`:latest\`, which changes under you and makes a rollout not reproducible: pin a version tag`, range, {
      title: 'Replace `latest` with a version tag',
      edits: [{ range: { start, end }, newText: '${1:1.0.0}' }],
      snippet: true,
    });
  }
}

function checkPositiveDuration(r: Rules, pointer: string, v: unknown): void {
  if (typeof v === 'string' && parseDuration(v) === 0) {
    r.add('KD107', 'error', `\`${pointer.split('/').pop()}\` must be longer than 0s, got \`${v}\``, valueRangeAt(r.doc, pointer));
  }
}

function checkEnvironments(r: Rules, envs: unknown[]): void {
  const firstAt = new Map<string, number>();
  const names = new Set<string>();
  envs.forEach((e) => {
    if (isObj(e) && typeof e.name === 'string') names.add(e.name);
  });
  envs.forEach((e, i) => {
    if (!isObj(e)) return;
    const p = `/spec/environments/${i}`;
    if (typeof e.name === 'string') {
      const first = firstAt.get(e.name);
      if (first !== undefined) {
        r.add('KD111', 'error', `environment \`${e.name}\` is defined twice (first on line ${r.line(`/spec/environments/${first}/name`)}); environment names must be unique`, valueRangeAt(r.doc, `${p}/name`));
      } else firstAt.set(e.name, i);
    }
    if (typeof e.after === 'string') {
      if (e.after === e.name) {
        r.add('KD110', 'error', `environment \`${e.after}\` cannot come \`after\` itself`, valueRangeAt(r.doc, `${p}/after`));
      } else if (!names.has(e.after)) {
        const range = valueRangeAt(r.doc, `${p}/after`);
        const candidates = [...names].filter((n) => n !== e.name);
        const suggestion = closest(e.after, candidates);
        const known = candidates.length ? `; environments: ${candidates.map((n) => `\`${n}\``).join(', ')}` : '';
        r.add('KD109', 'error', `\`after: ${e.after}\` names no environment of this pipeline${suggestion ? `: did you mean \`${suggestion}\`?` : known}`, range,
          suggestion ? { title: `Change to \`${suggestion}\``, edits: [{ range, newText: suggestion }] } : undefined);
      }
    }
    if (e.protected === true && (e.after === undefined || e.after === null)) {
      r.add('KD118', 'warning', `protected environment \`${String(e.name ?? '')}\` has no \`after\`: a release can reach it without succeeding anywhere first`, keyRangeAt(r.doc, `${p}/protected`));
    }
  });
  // Cycles through `after` (self-loops are reported above).
  const after = new Map<string, { to: string; index: number }>();
  envs.forEach((e, i) => {
    if (isObj(e) && typeof e.name === 'string' && typeof e.after === 'string' && e.after !== e.name && firstAt.get(e.name) === i) {
      after.set(e.name, { to: e.after, index: i });
    }
  });
  const reported = new Set<string>();
  for (const start of after.keys()) {
    const seen: string[] = [];
    let cur: string | undefined = start;
    while (cur !== undefined && after.has(cur) && !seen.includes(cur)) {
      seen.push(cur);
      cur = after.get(cur)!.to;
    }
    if (cur === undefined || !seen.includes(cur)) continue;
    const cycle = seen.slice(seen.indexOf(cur));
    const key = [...cycle].sort().join('>');
    if (reported.has(key)) continue;
    reported.add(key);
    const text = [...cycle, cycle[0]].join(' → ');
    for (const name of cycle) {
      const { index } = after.get(name)!;
      r.add('KD110', 'error', `\`after\` forms a cycle (${text}): no environment in it could ever be released first`, valueRangeAt(r.doc, `/spec/environments/${index}/after`));
    }
  }
}

function checkTestRefs(r: Rules, pointer: string, refs: unknown, testNames: string[]): void {
  arr(refs).forEach((t, i) => {
    if (typeof t !== 'string' || testNames.includes(t)) return;
    const range = valueRangeAt(r.doc, `${pointer}/${i}`);
    const suggestion = closest(t, testNames);
    const known = testNames.length ? `defined tests: ${testNames.map((n) => `\`${n}\``).join(', ')}` : '`spec.tests` defines none';
    r.add('KD108', 'error', `test \`${t}\` is not defined in \`spec.tests\`${suggestion ? `: did you mean \`${suggestion}\`?` : ` (${known})`}`, range,
      suggestion ? { title: `Change to \`${suggestion}\``, edits: [{ range, newText: suggestion }] } : undefined);
  });
}

const ROUTER_FIELDS: Record<string, string[]> = {
  replicas: ['replicas'],
  istio: ['virtualService', 'destinationRule'],
  gatewayApi: ['httpRoute'],
  nginx: ['ingress'],
};
const REQUIRED_FIELDS: Record<string, { key: string; what: string }[]> = {
  istio: [
    { key: 'virtualService', what: 'the VirtualService whose route weights it sets' },
    { key: 'destinationRule', what: 'the DestinationRule whose subsets it keeps in step' },
  ],
  gatewayApi: [{ key: 'httpRoute', what: 'the HTTPRoute whose backendRef weights it sets' }],
  nginx: [{ key: 'ingress', what: 'the primary Ingress it places a canary Ingress beside' }],
};

function checkCanary(r: Rules, s: Obj, testNames: string[]): void {
  const traffic = isObj(s.traffic) ? s.traffic : {};
  const router = typeof traffic.router === 'string' ? traffic.router : 'replicas';
  if (router in ROUTER_FIELDS) {
    for (const { key, what } of REQUIRED_FIELDS[router] ?? []) {
      if (typeof traffic[key] !== 'string' || !traffic[key]) {
        const at = s.traffic !== undefined && isObj(s.traffic) && 'router' in s.traffic ? valueRangeAt(r.doc, '/spec/strategy/traffic/router') : anchorRange(r.doc, '/spec/strategy/traffic');
        r.add('KD114', 'error', `the ${router} router needs \`traffic.${key}\`: ${what}`, at);
      }
    }
    for (const [other, fields] of Object.entries(ROUTER_FIELDS)) {
      if (other === router) continue;
      for (const f of fields) {
        if (f in traffic) {
          r.add('KD115', 'warning', `\`${f}\` is only used by the ${other} router; this pipeline uses ${router}, so it is ignored`, keyRangeAt(r.doc, `/spec/strategy/traffic/${f}`));
        }
      }
    }
  }
  const stages = arr(s.stages);
  let prevCanary: { weight: number; index: number } | undefined;
  let baselineTraffic = false;
  stages.forEach((st, i) => {
    if (!isObj(st)) return;
    const p = `/spec/strategy/stages/${i}`;
    const w = isObj(st.weights) ? st.weights : undefined;
    if (w) {
      const canary = isInt(w.canary) ? w.canary : undefined;
      const baseline = w.baseline === undefined ? 0 : isInt(w.baseline) ? w.baseline : undefined;
      const current = w.current === undefined ? undefined : isInt(w.current) ? w.current : NaN;
      if (baseline && baseline > 0) {
        baselineTraffic = true;
        if (s.baseline !== true) {
          r.add('KD103', 'error', `stage ${i + 1} sends ${baseline}% to the baseline, but the strategy runs no baseline: set \`baseline: true\` or remove the baseline weight`, valueRangeAt(r.doc, `${p}/weights/baseline`));
        }
      }
      if (canary !== undefined && baseline !== undefined && !Number.isNaN(current)) {
        checkWeightSum(r, p, i, canary, baseline, current);
      }
      if (canary !== undefined) {
        if (prevCanary && canary < prevCanary.weight) {
          r.add('KD102', 'error', `the canary weight goes down from ${prevCanary.weight}% (stage ${prevCanary.index + 1}) to ${canary}% (stage ${i + 1}); stages only move traffic forward (abort to go back)`, valueRangeAt(r.doc, `${p}/weights/canary`));
        }
        prevCanary = { weight: canary, index: i };
      }
    }
    if (st.mode === 'auto' && st.analysis === undefined) {
      r.add('KD104', 'error', `stage ${i + 1} is \`auto\` but has no \`analysis\`: an auto stage advances when its analysis passes; add an analysis or use \`mode: manual\``, valueRangeAt(r.doc, `${p}/mode`));
    }
    if (isObj(st.analysis)) checkAnalysis(r, `${p}/analysis`, st.analysis);
    checkTestRefs(r, `${p}/tests`, st.tests, testNames);
  });
  if (s.baseline === true && stages.length && !baselineTraffic) {
    r.add('KD121', 'warning', '`baseline: true` starts a baseline Deployment, but no stage gives it traffic: add `baseline` weights to the stages or remove `baseline: true`', keyRangeAt(r.doc, '/spec/strategy/baseline'));
  }
}

function checkWeightSum(r: Rules, p: string, i: number, canary: number, baseline: number, current: number | undefined): void {
  if (current === undefined) {
    if (canary + baseline > 100) {
      r.add('KD101', 'error', `stage ${i + 1} weights sum to more than 100: canary ${canary} + baseline ${baseline} = ${canary + baseline}`, keyRangeAt(r.doc, `${p}/weights`));
    }
    return;
  }
  const sum = canary + baseline + current;
  if (sum === 100) return;
  const parts = `canary ${canary} + ${baseline ? `baseline ${baseline} + ` : ''}current ${current} = ${sum}`;
  const fixed = 100 - canary - baseline;
  const fix = fixed >= 0 && fixed <= 100
    ? { title: `Set \`current\` to ${fixed} so the weights sum to 100`, edits: [{ range: valueRangeAt(r.doc, `${p}/weights/current`), newText: String(fixed) }] }
    : undefined;
  r.add('KD101', 'error', `stage ${i + 1} weights must sum to 100, got ${parts}`, keyRangeAt(r.doc, `${p}/weights`), fix);
}

function checkAnalysis(r: Rules, p: string, a: Obj): void {
  const known = ['successRate', 'latencyP50Ms', 'latencyP99Ms', 'schedule', 'checks', 'failureLimit', 'minRequests', 'queries'];
  const hasTypo = Object.keys(a).some((k) => !known.includes(k));
  if (!hasTypo && !('successRate' in a) && !('latencyP50Ms' in a) && !('latencyP99Ms' in a)) {
    r.add('KD119', 'error', 'this analysis checks nothing: set at least one threshold (`successRate`, `latencyP50Ms` or `latencyP99Ms`)', keyRangeAt(r.doc, p));
  }
  if (typeof a.schedule === 'string') {
    const err = cronError(a.schedule);
    if (err) r.add('KD105', 'error', `\`schedule\` \`${a.schedule}\` is not a valid cron schedule: ${err}`, valueRangeAt(r.doc, `${p}/schedule`));
  }
  // Custom metric queries without a request count leave the minimum sample size off (see
  // minRequestsDefault): say so, since the user may believe a single failed request cannot fail a check.
  const q = isObj(a.queries) ? a.queries : undefined;
  if (q && a.minRequests === undefined && minRequestsDefault({ queries: q }) === 0) {
    r.add('KD123', 'warning', 'these custom `queries` have no `requests` query, so `minRequests` is off and a check judges however few requests the canary got; add `queries.requests` (PromQL counting the version\'s requests in the same window) or set `minRequests` (0 keeps it off)', keyRangeAt(r.doc, `${p}/queries`));
  }
}
