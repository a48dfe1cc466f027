import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cloneJson, deepEqual, type Json } from '../../../../src/sandbox/api/json';

/** cloneJson as it was (Object.keys, a call per value): the copy the faster walk must keep producing. */
function previousCloneJson<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = previousCloneJson(v[i]);
    return out as T;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return structuredClone(v);
  const src = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(src)) {
    if (k === '__proto__') Object.defineProperty(out, k, { value: previousCloneJson(src[k]), enumerable: true, writable: true, configurable: true });
    else out[k] = previousCloneJson(src[k]);
  }
  return out as T;
}

/** JSON trees whose keys include the awkward ones: "__proto__", integer-like keys, Object.prototype names. */
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', '0', '7', '10', 'metadata'));
const { tree } = fc.letrec<{ tree: Json }>((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom<Json>(null, true, false, 0, -1.5, '', 'ü日本🙂'),
    fc.string(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.array(tie('tree'), { maxLength: 5 }),
    fc.array(fc.tuple(key, tie('tree')), { maxLength: 6 }).map((entries) => {
      // Built with defineProperty, as JSON.parse does: "__proto__" is an own data key, not the prototype.
      const o: Record<string, Json> = {};
      for (const [k, v] of entries) Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
      return o;
    }),
  ),
}));

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object') return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}

/** Every object and array in a tree (the root included). */
function nodes(v: unknown, out: object[] = []): object[] {
  if (v !== null && typeof v === 'object') {
    out.push(v);
    for (const x of Object.values(v)) nodes(x, out);
  }
  return out;
}

describe('sandbox json: cloneJson', () => {
  it('copies what the previous implementation copied: the same keys in the same order, the same values', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const c = cloneJson(t);
        assert.equal(JSON.stringify(c), JSON.stringify(t));
        assert.deepStrictEqual(c, previousCloneJson(t));
        assert.ok(deepEqual(c, t));
      }),
      { numRuns: 500 },
    );
  });

  it('shares no object or array with the source, and its copies of frozen (stored) objects are mutable', () => {
    fc.assert(
      fc.property(tree, (t) => {
        deepFreeze(t);
        const c = cloneJson(t);
        const original = new Set(nodes(t));
        for (const n of nodes(c)) {
          assert.ok(!original.has(n), 'a copied node is a new object');
          assert.ok(!Object.isFrozen(n), 'a copy is mutable');
          assert.ok(Object.getPrototypeOf(n) === Object.prototype || Array.isArray(n), 'plain objects and arrays only');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('keeps "__proto__" as data and ignores inherited enumerable properties', () => {
    const src = JSON.parse('{"__proto__":{"polluted":true},"a":[{"__proto__":1}]}') as Record<string, unknown>;
    const c = cloneJson(src);
    assert.equal(Object.getPrototypeOf(c), Object.prototype, 'the prototype is not replaced');
    assert.equal((c as { polluted?: boolean }).polluted, undefined);
    assert.equal(JSON.stringify(c), '{"__proto__":{"polluted":true},"a":[{"__proto__":1}]}');

    assert.deepEqual(Object.keys(cloneJson({ x: Object.assign(Object.create(null) as object, { own: 1 }) }).x), ['own'], 'a null-prototype object is copied as plain');
    // An enumerable property on Object.prototype (a polluted prototype) is not the object's own: not copied.
    Object.defineProperty(Object.prototype, 'inheritedByAll', { value: 1, enumerable: true, configurable: true });
    try {
      const copy = cloneJson({ a: { b: [{ c: 1 }] } });
      assert.deepEqual(nodes(copy).map((n) => Object.keys(n)), [['a'], ['b'], ['0'], ['c']]);
    } finally {
      delete (Object.prototype as Record<string, unknown>).inheritedByAll;
    }
  });

  it('leaves non-JSON objects to structuredClone', () => {
    const d = new Date(0);
    const c = cloneJson({ when: d, tags: new Map([['a', 1]]) });
    assert.ok(c.when instanceof Date && c.when !== d && c.when.getTime() === 0);
    assert.ok(c.tags instanceof Map && c.tags.get('a') === 1);
  });
});
