import assert from 'node:assert/strict';
import { jsonPatch, mergePatch, strategicMerge } from '../../../../src/sandbox/api/patch';
import { parseLabelSelector, parseFieldSelector } from '../../../../src/sandbox/api/selectors';
import { ApiError } from '../../../../src/sandbox/api/errors';

describe('sandbox patches', () => {
  it('JSON patch: add/remove/replace/move/copy/test with pointer escapes and "-"', () => {
    const doc = { a: { 'b/c': 1, 'd~e': 2 }, list: [1, 2] };
    const out = jsonPatch(structuredClone(doc), [
      { op: 'add', path: '/list/-', value: 3 },
      { op: 'add', path: '/list/0', value: 0 },
      { op: 'remove', path: '/a/b~1c' },
      { op: 'replace', path: '/a/d~0e', value: 5 },
      { op: 'copy', from: '/a', path: '/copy' },
      { op: 'move', from: '/copy', path: '/moved' },
      { op: 'test', path: '/list', value: [0, 1, 2, 3] },
    ]);
    assert.deepEqual(out, { a: { 'd~e': 5 }, list: [0, 1, 2, 3], moved: { 'd~e': 5 } });
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'test', path: '/a', value: 2 }]), (e: unknown) => e instanceof ApiError && e.code === 422);
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: 'remove', path: '/nope' }]), (e: unknown) => e instanceof ApiError && e.code === 422);
  });

  it('merge patch: null deletes, objects merge, lists replace', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: null, e: 4 }, l: [9] }), { b: { d: 3, e: 4 }, l: [9] });
  });

  it('strategic merge: containers/env by name, ports by containerPort, service ports by port, $patch and $setElementOrder', () => {
    const pod = {
      spec: {
        containers: [
          { name: 'a', image: 'a:1', env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }], ports: [{ containerPort: 80, name: 'http' }] },
          { name: 'b', image: 'b:1' },
        ],
        tolerations: [{ key: 'k' }],
      },
    };
    const out = strategicMerge(structuredClone(pod), {
      spec: {
        '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }],
        containers: [
          { name: 'a', image: 'a:2', env: [{ name: 'Y', $patch: 'delete' }, { name: 'Z', value: '3' }], ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443 }] },
          { name: 'c', image: 'c:1' },
        ],
        tolerations: [{ key: 'new' }],
      },
    }, []) as typeof pod;
    assert.deepEqual(out.spec.containers.map((c) => c.name), ['b', 'a', 'c']);
    const a = out.spec.containers[1] as (typeof pod.spec.containers)[0];
    assert.equal(a.image, 'a:2');
    assert.deepEqual(a.env, [{ name: 'X', value: '1' }, { name: 'Z', value: '3' }]);
    assert.deepEqual(a.ports, [{ containerPort: 80, name: 'http', protocol: 'TCP' }, { containerPort: 443 }]);
    assert.deepEqual(out.spec.tolerations, [{ key: 'new' }], 'lists without a merge key are replaced');
    const svc = strategicMerge({ spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 81 }] } }, { spec: { ports: [{ port: 80, targetPort: 9090 }] } }, []);
    assert.deepEqual(svc, { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 81 }] } });
    const replaced = strategicMerge({ spec: { containers: [{ name: 'a' }, { name: 'b' }] } }, { spec: { containers: [{ $patch: 'replace' }, { name: 'z' }] } }, []);
    assert.deepEqual(replaced, { spec: { containers: [{ name: 'z' }] } });
    const retained = strategicMerge({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }, { strategy: { $retainKeys: ['type'], type: 'Recreate' } }, []);
    assert.deepEqual(retained, { strategy: { type: 'Recreate' } });
    const fin = strategicMerge({ metadata: { finalizers: ['a', 'b'] } }, { metadata: { finalizers: ['c'], '$deleteFromPrimitiveList/finalizers': ['a'] } }, []);
    assert.deepEqual(fin, { metadata: { finalizers: ['b', 'c'] } });
  });
});

describe('sandbox selectors', () => {
  it('label selectors: every operator, comma = AND', () => {
    const l = { app: 'web', track: 'canary', tier: '3' };
    const m = (s: string) => parseLabelSelector(s).matches(l);
    assert.ok(m('app=web'));
    assert.ok(m('app==web'));
    assert.ok(!m('app!=web'));
    assert.ok(m('track in (stable, canary)'));
    assert.ok(!m('track notin (canary)'));
    assert.ok(m('app'));
    assert.ok(m('!missing'));
    assert.ok(!m('!app'));
    assert.ok(m('tier>2,tier<4'));
    assert.ok(!m('app=web,track=stable'));
    assert.ok(m(''));
    assert.throws(() => parseLabelSelector('app=we b'), (e: unknown) => e instanceof ApiError && e.code === 400);
  });

  it('field selectors read dotted paths; missing fields are ""', () => {
    const ev = { metadata: { name: 'e1' }, involvedObject: { kind: 'Deployment', name: 'web' } };
    assert.ok(parseFieldSelector('involvedObject.kind=Deployment,involvedObject.name=web').matches(ev));
    assert.ok(!parseFieldSelector('involvedObject.name!=web').matches(ev));
    assert.ok(parseFieldSelector('status.phase=').matches(ev));
    assert.throws(() => parseFieldSelector('garbage'), (e: unknown) => e instanceof ApiError && e.code === 400);
  });
});
