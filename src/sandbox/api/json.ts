// Small JSON helpers shared by the store and the patch engines.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Structural equality of JSON values (one implementation with the webview's, in src/common). */
export { deepEqual } from '../../common/deepEqual';

const hasOwn = Object.prototype.hasOwnProperty;

/**
 * A deep copy of a JSON value. The store copies an object on every write (the caller's input, the
 * draft of `modify`, the kept status); for these small plain objects this is several times faster than
 * structuredClone. Anything that is not a plain object or array (a Date, a Map) goes to structuredClone.
 * Own enumerable string keys are copied, as Object.keys would list them, but through for-in: V8
 * walks a for-in over a fast object from its enum cache (no keys array per object), and the hasOwn
 * check there costs nothing; primitives are copied inline instead of through a call.
 */
export function cloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      out[i] = x !== null && typeof x === 'object' ? cloneJson(x) : x;
    }
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k in src) {
    if (!hasOwn.call(src, k)) continue;
    const x = src[k];
    const c = x !== null && typeof x === 'object' ? cloneJson(x) : x;
    // A "__proto__" key from JSON.parse is data: define it, never assign it (that would set the prototype).
    if (k === '__proto__') Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    else out[k] = c;
  }
  return out as T;
}
