// Field ownership for server-side apply, simplified from kube-apiserver's managedFields: every write
// that names a field manager takes ownership of the leaf fields it set or changed; an apply that would
// change a field another manager owns is a 409 Conflict with FieldManagerConflict causes, unless
// `force` (which takes the field over). Equal values are shared, never a conflict. Lists with a merge
// key are tracked per element (`containers[name="app"].image`); other lists are one atomic leaf.
// Ownership is kept beside the objects (not rendered as metadata.managedFields).
import { ApiError } from './errors';
import { isPlainObject } from './json';
import { listStrategy } from './patch';
import type { ResourceDef } from './resources';

/** Leaf path → JSON of its value. */
export type Leaves = Map<string, string>;

const SKIP_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink', 'generateName']);

export function leaves(obj: unknown): Leaves {
  const out: Leaves = new Map();
  if (!isPlainObject(obj)) return out;
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind' || k === 'status') continue;
    if (k === 'metadata' && isPlainObject(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SKIP_META.has(mk)) walk(mv, `.metadata.${mk}`, ['metadata', mk], out);
      continue;
    }
    walk(v, `.${k}`, [k], out);
  }
  return out;
}

function walk(v: unknown, path: string, names: string[], out: Leaves): void {
  if (v === undefined || v === null) return;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    if (keys.length === 0) {
      out.set(path, '{}');
      return;
    }
    for (const k of keys) walk(v[k], `${path}.${k}`, [...names, k], out);
    return;
  }
  if (Array.isArray(v)) {
    const field = names[names.length - 1];
    const strategy = listStrategy(names.slice(0, -1), field, v);
    if (strategy.kind === 'merge' && v.every((e) => isPlainObject(e) && e[strategy.key] !== undefined)) {
      for (const e of v as Record<string, unknown>[]) walk(e, `${path}[${strategy.key}=${JSON.stringify(e[strategy.key])}]`, names, out);
      return;
    }
    out.set(path, JSON.stringify(v));
    return;
  }
  out.set(path, JSON.stringify(v));
}

interface Ownership {
  operation: 'Apply' | 'Update';
  fields: Set<string>;
}

/** Per-object ownership: manager → fields. */
export type Managers = Map<string, Ownership>;

/** Records that `manager` wrote `after` over `before` (a create, update or patch): it owns what changed. */
export function recordUpdate(managers: Managers, manager: string, before: unknown, after: unknown): void {
  const a = leaves(after);
  const b = before === undefined ? new Map<string, string>() : leaves(before);
  const changed = new Set<string>();
  for (const [p, v] of a) if (b.get(p) !== v) changed.add(p);
  if (changed.size === 0) return;
  for (const [name, own] of managers) {
    if (name === manager) continue;
    for (const p of changed) own.fields.delete(p);
    if (own.fields.size === 0) managers.delete(name);
  }
  const mine = managers.get(manager) ?? { operation: 'Update' as const, fields: new Set<string>() };
  for (const p of changed) mine.fields.add(p);
  managers.set(manager, mine);
  // Fields that disappeared are owned by nobody.
  for (const own of managers.values()) for (const p of own.fields) if (!a.has(p) && ![...a.keys()].some((k) => k.startsWith(`${p}.`) || k.startsWith(`${p}[`))) own.fields.delete(p);
}

/**
 * Checks an apply of `applied` by `manager` over `current`; throws 409 with FieldManagerConflict causes
 * when it would change fields owned by other managers (unless force). Then records ownership.
 */
export function recordApply(def: ResourceDef, version: string, managers: Managers, manager: string, current: unknown, applied: unknown, force: boolean): void {
  const want = leaves(applied);
  const have = current === undefined ? new Map<string, string>() : leaves(current);
  const conflicts: { manager: string; field: string }[] = [];
  for (const [p, v] of want) {
    if (have.get(p) === v || !have.has(p)) continue;
    for (const [name, own] of managers) if (name !== manager && own.fields.has(p)) conflicts.push({ manager: name, field: p });
  }
  const gv = def.group ? `${def.group}/${version}` : version;
  if (conflicts.length && !force) {
    const list = conflicts.map((c) => `conflict with "${c.manager}" using ${gv}: ${c.field}`);
    const message = conflicts.length === 1 ? `Apply failed with 1 conflict: ${list[0]}` : `Apply failed with ${conflicts.length} conflicts: ${list.join('\n')}`;
    throw new ApiError(409, 'Conflict', message, {
      causes: conflicts.map((c) => ({ reason: 'FieldManagerConflict', type: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${gv}`, field: c.field })),
    });
  }
  for (const c of conflicts) {
    const own = managers.get(c.manager);
    own?.fields.delete(c.field);
    if (own && own.fields.size === 0) managers.delete(c.manager);
  }
  managers.set(manager, { operation: 'Apply', fields: new Set(want.keys()) });
}
