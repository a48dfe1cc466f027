// Label and field selectors, parsed once per request into predicates.
// Label selector syntax (kube-apiserver's): `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
// `k`, `!k`, `k>n`, `k<n`; comma = AND. Field selectors: `path=v`, `path==v`, `path!=v`, comma = AND,
// where path is a dotted object path (metadata.name, involvedObject.kind, status.phase, spec.nodeName...).
import { badRequest } from './errors';

export type Labels = Record<string, string> | undefined;

export type LabelRequirement =
  | { key: string; op: 'in' | 'notin'; values: string[] }
  | { key: string; op: 'exists' | '!exists' }
  | { key: string; op: 'gt' | 'lt'; value: number };

export interface LabelSelector {
  requirements: LabelRequirement[];
  matches(labels: Labels): boolean;
  /** True when the selector selects everything (empty). */
  empty: boolean;
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((t) => t.trim()).filter((t) => t.length > 0);
}

const KEY = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string, whole: string): string {
  if (!KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}" in selector "${whole}"`);
  return key;
}
function checkValue(v: string, whole: string): string {
  if (!VALUE.test(v)) throw badRequest(`unable to parse requirement: invalid label value "${v}" in selector "${whole}"`);
  return v;
}

function parseTerm(t: string, whole: string): LabelRequirement {
  const setMatch = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(t);
  if (setMatch) {
    const values = setMatch[3].split(',').map((v) => checkValue(v.trim(), whole));
    return { key: checkKey(setMatch[1], whole), op: setMatch[2] as 'in' | 'notin', values };
  }
  if (t.startsWith('!')) return { key: checkKey(t.slice(1).trim(), whole), op: '!exists' };
  const eq = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(.*)$/.exec(t);
  if (eq) {
    const key = checkKey(eq[1], whole);
    const value = eq[3].trim();
    if (eq[2] === '>' || eq[2] === '<') {
      const n = Number(value);
      if (!Number.isInteger(n)) throw badRequest(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in selector "${whole}"`);
      return { key, op: eq[2] === '>' ? 'gt' : 'lt', value: n };
    }
    checkValue(value, whole);
    return { key, op: eq[2] === '!=' ? 'notin' : 'in', values: [value] };
  }
  return { key: checkKey(t, whole), op: 'exists' };
}

function matchRequirement(r: LabelRequirement, labels: Labels): boolean {
  const has = labels !== undefined && Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels![r.key] : undefined;
  switch (r.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case 'in':
      return has && r.values.includes(v!);
    case 'notin':
      return !has || !r.values.includes(v!);
    case 'gt':
    case 'lt': {
      if (!has) return false;
      const n = Number(v);
      if (!Number.isInteger(n)) return false;
      return r.op === 'gt' ? n > r.value : n < r.value;
    }
  }
}

function selectorOf(requirements: LabelRequirement[]): LabelSelector {
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (labels) => requirements.every((r) => matchRequirement(r, labels)),
  };
}

/** Parses a label selector string (already URL-decoded, `+` already turned into a space). */
export function parseLabelSelector(s: string | undefined | null): LabelSelector {
  if (!s || !s.trim()) return selectorOf([]);
  return selectorOf(splitTerms(s).map((t) => parseTerm(t, s)));
}

/** A metav1.LabelSelector object (`matchLabels` + `matchExpressions`), as in Deployment.spec.selector. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/**
 * Compiled selectors of objects that cannot change: stored objects are deep-frozen, so a frozen
 * selector (or label map) always compiles to the same predicate. Keyed weakly, so a selector is
 * forgotten with the last object version that holds it. Unfrozen input is compiled afresh every time
 * (a caller may still be editing it).
 */
const compiledObjects = new WeakMap<object, LabelSelector>();
const compiledLabelMaps = new WeakMap<object, LabelSelector>();

/** True when `o` and everything in it is frozen (what the store's deepFreeze leaves). */
function deepFrozen(o: unknown): boolean {
  if (o === null || typeof o !== 'object') return true;
  if (!Object.isFrozen(o)) return false;
  for (const k in o) if (!deepFrozen((o as Record<string, unknown>)[k])) return false;
  return true;
}

/** The compiled form of `key` from `cache`, compiled on a miss and kept only when `key` is deep-frozen. */
function cached(cache: WeakMap<object, LabelSelector>, key: object, compile: () => LabelSelector): LabelSelector {
  const hit = cache.get(key);
  if (hit) return hit;
  const compiled = compile();
  if (deepFrozen(key)) cache.set(key, compiled);
  return compiled;
}

export function labelSelectorFromObject(o: LabelSelectorObject | undefined | null): LabelSelector {
  if (!o || typeof o !== 'object') return compileSelectorObject(o);
  return cached(compiledObjects, o, () => compileSelectorObject(o));
}

/** The selector `matchLabels: labels` (a Service selector, a pod template's labels), cached like labelSelectorFromObject. */
export function labelSelectorFromLabels(labels: Record<string, string> | undefined | null): LabelSelector {
  if (!labels || typeof labels !== 'object') return compileSelectorObject(undefined);
  return cached(compiledLabelMaps, labels, () => compileSelectorObject({ matchLabels: labels }));
}

function compileSelectorObject(o: LabelSelectorObject | undefined | null): LabelSelector {
  const reqs: LabelRequirement[] = [];
  for (const [key, value] of Object.entries(o?.matchLabels ?? {})) reqs.push({ key, op: 'in', values: [value] });
  for (const e of o?.matchExpressions ?? []) {
    if (e.operator === 'In') reqs.push({ key: e.key, op: 'in', values: e.values ?? [] });
    else if (e.operator === 'NotIn') reqs.push({ key: e.key, op: 'notin', values: e.values ?? [] });
    else if (e.operator === 'Exists') reqs.push({ key: e.key, op: 'exists' });
    else reqs.push({ key: e.key, op: '!exists' });
  }
  return selectorOf(reqs);
}

/** Renders a LabelSelector object as the query string form (`app=web,track in (a,b)`). */
export function labelSelectorString(o: LabelSelectorObject | undefined | null): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(o?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of o?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export interface FieldRequirement {
  path: string[];
  field: string;
  value: string;
  negate: boolean;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
  empty: boolean;
  matches(obj: unknown): boolean;
}

/** The string value a field selector compares against (missing → ""). */
export function fieldValue(obj: unknown, path: string[]): string {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[p];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

export function parseFieldSelector(s: string | undefined | null): FieldSelector {
  const requirements: FieldRequirement[] = [];
  if (s && s.trim()) {
    for (const term of s.split(',').map((t) => t.trim()).filter(Boolean)) {
      const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
      if (!m) throw badRequest(`invalid field selector "${s}": "${term}" is not <field>=<value> or <field>!=<value>`);
      requirements.push({ field: m[1], path: m[1].split('.'), value: m[3].trim(), negate: m[2] === '!=' });
    }
  }
  return {
    requirements,
    empty: requirements.length === 0,
    matches: (obj) => requirements.every((r) => (fieldValue(obj, r.path) === r.value) !== r.negate),
  };
}

/** Both selectors of a list or watch request. */
export interface Selectors {
  labelSelector?: string | LabelSelector;
  fieldSelector?: string | FieldSelector;
}

export interface CompiledSelectors {
  label: LabelSelector;
  field: FieldSelector;
  /** True when every object matches (no filtering needed). */
  all: boolean;
  matches(obj: { metadata?: { labels?: Record<string, string> } }): boolean;
}

export function compileSelectors(s: Selectors | undefined): CompiledSelectors {
  const label = typeof s?.labelSelector === 'object' ? s.labelSelector : parseLabelSelector(s?.labelSelector);
  const field = typeof s?.fieldSelector === 'object' ? s.fieldSelector : parseFieldSelector(s?.fieldSelector);
  const all = label.empty && field.empty;
  return {
    label,
    field,
    all,
    matches: all ? () => true : (obj) => label.matches(obj.metadata?.labels) && field.matches(obj),
  };
}
