// Small JSON helpers shared by the store and the patch engines.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Structural equality of JSON values (one implementation with the webview's, in src/common). */
export { deepEqual } from '../../common/deepEqual';
