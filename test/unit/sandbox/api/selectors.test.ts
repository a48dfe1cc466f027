// Compiled label selectors are cached for frozen (stored) selector objects: the cache must never change
// what a selector matches, never serve a stale predicate for an object that can still change, and the
// store's Deployment/ReplicaSet validation must keep refusing what it refused before.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { labelSelectorFromLabels, labelSelectorFromObject, type LabelSelectorObject } from '../../../../src/sandbox/api/selectors';
import { Store, ApiError, type KubeObject } from '../../../../src/sandbox/api/index';

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** What a selector object means, written out independently of selectors.ts. */
function reference(sel: LabelSelectorObject, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    if (e.operator === 'In' && !(has && (e.values ?? []).includes(labels[e.key]))) return false;
    if (e.operator === 'NotIn' && has && (e.values ?? []).includes(labels[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const key = fc.constantFrom('app', 'track', 'tier', 'x/y');
const value = fc.constantFrom('web', 'canary', 'stable', '');
const labelMap = fc.dictionary(key, value, { maxKeys: 4 });
const selectorObject: fc.Arbitrary<LabelSelectorObject> = fc.record(
  {
    matchLabels: labelMap,
    matchExpressions: fc.array(
      fc.record({ key, operator: fc.constantFrom('In', 'NotIn', 'Exists', 'DoesNotExist') as fc.Arbitrary<'In' | 'NotIn' | 'Exists' | 'DoesNotExist'>, values: fc.array(value, { maxLength: 3 }) }),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
);

describe('sandbox label selectors: compiled once per frozen selector', () => {
  it('a frozen selector matches exactly what its unfrozen copy and the written-out meaning match, on every call', () => {
    fc.assert(
      fc.property(selectorObject, fc.array(labelMap, { maxLength: 6 }), (sel, pods) => {
        const frozen = deepFreeze(structuredClone(sel));
        for (const labels of pods) {
          const want = reference(sel, labels);
          assert.equal(labelSelectorFromObject(structuredClone(sel)).matches(labels), want);
          assert.equal(labelSelectorFromObject(frozen).matches(labels), want, 'first (compiling) call');
          assert.equal(labelSelectorFromObject(frozen).matches(labels), want, 'cached call');
          const asMap = deepFreeze({ ...(sel.matchLabels ?? {}) });
          assert.equal(labelSelectorFromLabels(asMap).matches(labels), reference({ matchLabels: sel.matchLabels }, labels));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('reuses the compiled selector of a frozen object; an unfrozen one is compiled afresh, so later edits count', () => {
    const frozen = deepFreeze({ matchLabels: { app: 'web' } });
    assert.equal(labelSelectorFromObject(frozen), labelSelectorFromObject(frozen));
    const labels = deepFreeze({ app: 'web' });
    assert.equal(labelSelectorFromLabels(labels), labelSelectorFromLabels(labels));

    const open: LabelSelectorObject = { matchLabels: { app: 'web' } };
    assert.ok(labelSelectorFromObject(open).matches({ app: 'web' }));
    open.matchLabels!.app = 'api';
    assert.ok(!labelSelectorFromObject(open).matches({ app: 'web' }), 'an edited unfrozen selector is not served from a cache');
    assert.ok(labelSelectorFromObject(open).matches({ app: 'api' }));
    // Frozen outside, mutable inside: not safe to cache either.
    const shallow = Object.freeze({ matchLabels: { app: 'web' } });
    assert.ok(labelSelectorFromObject(shallow).matches({ app: 'web' }));
    shallow.matchLabels.app = 'api';
    assert.ok(labelSelectorFromObject(shallow).matches({ app: 'api' }));
  });

  it('store validation: template labels must match the selector on create and every update; the selector stays immutable', () => {
    const s = new Store();
    s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    const dep = (selector: LabelSelectorObject, templateLabels: Record<string, string>): KubeObject => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: 'default' },
      spec: { replicas: 1, selector, template: { metadata: { labels: templateLabels }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
    });
    const refused = (fn: () => unknown): string[] => {
      try {
        fn();
      } catch (e) {
        assert.ok(e instanceof ApiError && e.code === 422, String(e));
        return (e.status.details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
      }
      assert.fail('expected 422 Invalid');
    };
    const sel = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'track', operator: 'NotIn' as const, values: ['canary'] }] };
    assert.match(refused(() => s.create('deployments.apps', dep(sel, { app: 'web', track: 'canary' })))[0], /spec\.template\.metadata\.labels: .*does not match template/);
    s.create('deployments.apps', dep(sel, { app: 'web' }));
    // Many updates with the stored selector: each still checks the template it carries.
    for (const track of ['stable', 'blue', 'green']) {
      const cur = s.get('deployments.apps', 'default', 'web');
      s.update('deployments.apps', { ...dep(sel, { app: 'web', track }), metadata: { ...cur.metadata } });
    }
    const cur = s.get('deployments.apps', 'default', 'web');
    assert.match(refused(() => s.update('deployments.apps', { ...dep(sel, { app: 'web', track: 'canary' }), metadata: { ...cur.metadata } })).join('\n'), /does not match template/);
    const other = { matchLabels: { app: 'web' } };
    assert.match(refused(() => s.update('deployments.apps', { ...dep(other, { app: 'web' }), metadata: { ...cur.metadata } })).join('\n'), /spec\.selector: .*field is immutable/);
    assert.match(
      refused(() => s.modify('deployments.apps', 'default', 'web', (d) => void ((d.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels = { app: 'api' }))).join('\n'),
      /does not match template/,
      'an in-process modify is checked the same way',
    );
  });
});
