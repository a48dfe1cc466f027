// The four PATCH flavours kube-apiserver accepts:
// - 'json'      RFC 6902 JSON Patch (application/json-patch+json)
// - 'merge'     RFC 7386 JSON Merge Patch (application/merge-patch+json): null deletes a key
// - 'strategic' Kubernetes strategic merge patch (application/strategic-merge-patch+json): lists are
//               merged by their merge keys (containers/env/volumes by name, ports by containerPort or
//               port, ...), with the `$patch`, `$setElementOrder/<list>`, `$retainKeys` and
//               `$deleteFromPrimitiveList/<list>` directives
// - 'apply'     server-side apply (application/apply-patch+yaml), approximated as create-or-merge:
//               strategic merge of the applied configuration for built-in kinds, merge patch for
//               custom resources. Field ownership conflicts are not tracked.
// Every function returns a new value; inputs (frozen store objects) are never mutated.
import YAML from 'yaml';
import { ApiError, badRequest } from './errors';
import { isPlainObject } from './json';
import type { ResourceDef } from './resources';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

/** Maps a PATCH Content-Type to its patch type (undefined when not a patch media type). */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const ct = (contentType ?? '').split(';')[0].trim().toLowerCase();
  switch (ct) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
    case 'application/apply-patch+cbor':
      return 'apply';
    default:
      return undefined;
  }
}

export function applyPatch(def: ResourceDef, original: unknown, type: PatchType, body: unknown, _opts: { fieldManager?: string; force?: boolean } = {}): unknown {
  const base = structuredClone(original);
  switch (type) {
    case 'json':
      return jsonPatch(base, body);
    case 'merge':
      return mergePatch(base, body);
    case 'strategic':
      return strategicMerge(base, body, []);
    case 'apply': {
      const applied = typeof body === 'string' ? parseApplyBody(body) : body;
      if (!isPlainObject(applied)) throw badRequest('the applied configuration is not an object');
      return def.custom ? mergePatch(base, applied) : strategicMerge(base, applied, []);
    }
  }
}

function parseApplyBody(text: string): unknown {
  try {
    return YAML.parse(text);
  } catch (e) {
    throw badRequest(`error decoding YAML: ${(e as Error).message}`);
  }
}

// --- JSON Patch --------------------------------------------------------------------------------------

interface Op {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

function patchError(message: string): ApiError {
  return new ApiError(422, 'Invalid', message);
}

function pointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`JSON pointer "${p}" must start with "/"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: unknown, tokens: string[], path: string): { parent: unknown; key: string } {
  let cur = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isPlainObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw patchError(`doc is missing path: "${path}": missing value`);
  }
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function getAt(doc: unknown, path: string): unknown {
  let cur = doc;
  for (const t of pointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isPlainObject(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw patchError(`doc is missing path: "${path}": missing value`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, path: string, allowEnd: boolean): number {
  if (key === '-' && allowEnd) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw patchError(`invalid array index "${key}" in "${path}"`);
  const i = Number(key);
  if (i > arr.length || (!allowEnd && i === arr.length)) throw patchError(`Unable to access invalid index: ${i}: invalid index referenced in "${path}"`);
  return i;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) return value;
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, value);
  else if (isPlainObject(parent)) parent[key] = value;
  else throw patchError(`doc is missing path: "${path}": missing value`);
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const tokens = pointer(path);
  if (tokens.length === 0) throw patchError('cannot remove the whole document');
  const { parent, key } = parentOf(doc, tokens, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, false), 1);
  else if (isPlainObject(parent) && key in parent) delete parent[key];
  else throw patchError(`Unable to remove nonexistent key: ${key}: missing value`);
  return doc;
}

export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  for (const raw of ops as Op[]) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw badRequest('invalid JSON patch operation: needs "op" and "path"');
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, raw.path, structuredClone(raw.value));
        break;
      case 'remove':
        doc = removeAt(doc, raw.path);
        break;
      case 'replace':
        getAt(doc, raw.path);
        if (raw.path === '') doc = structuredClone(raw.value);
        else {
          const { parent, key } = parentOf(doc, pointer(raw.path), raw.path);
          if (Array.isArray(parent)) parent[arrayIndex(parent, key, raw.path, false)] = structuredClone(raw.value);
          else (parent as Record<string, unknown>)[key] = structuredClone(raw.value);
        }
        break;
      case 'move': {
        if (typeof raw.from !== 'string') throw badRequest('move operation needs "from"');
        const v = getAt(doc, raw.from);
        doc = removeAt(doc, raw.from);
        doc = addAt(doc, raw.path, v);
        break;
      }
      case 'copy': {
        if (typeof raw.from !== 'string') throw badRequest('copy operation needs "from"');
        doc = addAt(doc, raw.path, structuredClone(getAt(doc, raw.from)));
        break;
      }
      case 'test': {
        const v = getAt(doc, raw.path);
        if (JSON.stringify(canonical(v)) !== JSON.stringify(canonical(raw.value))) throw patchError(`testing value ${raw.path} failed: test operation failed`);
        break;
      }
      default:
        throw badRequest(`Unexpected kind: ${raw.op}`);
    }
  }
  return doc;
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isPlainObject(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
  return v;
}

// --- JSON Merge Patch --------------------------------------------------------------------------------

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// --- Strategic merge patch ---------------------------------------------------------------------------

type ListStrategy = { kind: 'merge'; key: string } | { kind: 'primitive-merge' } | { kind: 'replace' };

const NAME_KEYED = new Set(['containers', 'initContainers', 'ephemeralContainers', 'env', 'volumes', 'imagePullSecrets', 'resourceClaims', 'schedulingGates']);

/**
 * The patch strategy of a list field, from the k8s.io/api struct tags (patchStrategy=merge,
 * patchMergeKey=...). `path` is the chain of field names leading to the list's owner.
 */
export function listStrategy(path: string[], field: string, sample: unknown[]): ListStrategy {
  if (NAME_KEYED.has(field)) return { kind: 'merge', key: 'name' };
  switch (field) {
    case 'ports': {
      // Container ports merge on containerPort; Service (and Endpoints) ports on port.
      const first = sample.find(isPlainObject);
      if (path.includes('containers') || path.includes('initContainers') || (first && 'containerPort' in first)) return { kind: 'merge', key: 'containerPort' };
      if (path[path.length - 1] === 'spec' || (first && 'port' in first)) return { kind: 'merge', key: 'port' };
      return { kind: 'replace' };
    }
    case 'volumeMounts':
      return { kind: 'merge', key: 'mountPath' };
    case 'volumeDevices':
      return { kind: 'merge', key: 'devicePath' };
    case 'hostAliases':
      return { kind: 'merge', key: 'ip' };
    case 'topologySpreadConstraints':
      return { kind: 'merge', key: 'topologyKey' };
    case 'conditions':
      return { kind: 'merge', key: 'type' };
    case 'ownerReferences':
      return { kind: 'merge', key: 'uid' };
    case 'finalizers':
      return { kind: 'primitive-merge' };
    case 'readinessGates':
      return { kind: 'merge', key: 'conditionType' };
    default:
      return { kind: 'replace' };
  }
}

const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

export function strategicMerge(original: unknown, patch: unknown, path: string[]): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === 'replace') {
    const copy = { ...patch };
    delete copy.$patch;
    return stripDirectives(copy);
  }
  if (directive === 'delete') return undefined;
  if (directive !== undefined) throw badRequest(`Unknown patch directive: ${String(directive)}`);
  const out: Record<string, unknown> = isPlainObject(original) ? original : {};
  const retain = patch.$retainKeys;
  if (retain !== undefined) {
    if (!Array.isArray(retain)) throw badRequest('$retainKeys must be a list');
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k.startsWith(SET_ORDER) || k.startsWith(DELETE_PRIMITIVE)) continue;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      const cur = Array.isArray(out[k]) ? (out[k] as unknown[]) : [];
      const merged = mergeList(cur, v, [...path, k], k, patch[`${SET_ORDER}${k}`]);
      out[k] = merged;
      continue;
    }
    if (isPlainObject(v)) {
      const r = strategicMerge(out[k], v, [...path, k]);
      if (r === undefined) delete out[k];
      else out[k] = r;
      continue;
    }
    out[k] = v;
  }
  // Directives for lists that the patch does not otherwise mention.
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVE)) {
      const field = k.slice(DELETE_PRIMITIVE.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as unknown[]).filter((x) => !v.includes(x));
    } else if (k.startsWith(SET_ORDER)) {
      const field = k.slice(SET_ORDER.length);
      if (!(field in patch) && Array.isArray(out[field]) && Array.isArray(v)) {
        out[field] = mergeList(out[field] as unknown[], [], [...path, field], field, v);
      }
    }
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function mergeList(cur: unknown[], patch: unknown[], path: string[], field: string, order: unknown): unknown[] {
  if (patch.some((e) => isPlainObject(e) && e.$patch === 'replace')) {
    return patch.filter((e) => !(isPlainObject(e) && e.$patch === 'replace')).map(stripDirectives);
  }
  const strategy = listStrategy(path.slice(0, -1), field, [...patch, ...cur]);
  if (strategy.kind === 'replace') return patch.map(stripDirectives);
  if (strategy.kind === 'primitive-merge') {
    const out = [...cur];
    for (const e of patch) if (!out.includes(e)) out.push(e);
    return applyOrder(out, order, undefined);
  }
  const key = strategy.key;
  const out = [...cur];
  for (const e of patch) {
    if (!isPlainObject(e)) throw badRequest(`strategic merge patch: list "${field}" elements must be objects with "${key}"`);
    const id = e[key];
    if (id === undefined) throw badRequest(`map: ${JSON.stringify(e)} does not contain declared merge key: ${key}`);
    const i = out.findIndex((o) => isPlainObject(o) && o[key] === id);
    if (e.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
      continue;
    }
    if (i >= 0) out[i] = strategicMerge(out[i], e, path);
    else out.push(strategicMerge({}, e, path));
  }
  return applyOrder(out, order, key);
}

/** `$setElementOrder`: items named in the order come first, in that order; the rest keep theirs. */
function applyOrder(list: unknown[], order: unknown, key: string | undefined): unknown[] {
  if (!Array.isArray(order)) return list;
  const idOf = (e: unknown) => (key ? (isPlainObject(e) ? e[key] : undefined) : e);
  const wanted = order.map((o) => (key && isPlainObject(o) ? o[key] : o));
  const ordered: unknown[] = [];
  for (const w of wanted) {
    const found = list.find((e) => idOf(e) === w);
    if (found !== undefined) ordered.push(found);
  }
  for (const e of list) if (!ordered.includes(e)) ordered.push(e);
  return ordered;
}
