// What the store's write path hands out: the bytes watchers and LISTs send, the frozen objects, and
// which watchers see an event. Kept apart from store.test.ts: these pin the outputs the write path's
// shortcuts (one buffer per event, the fan-out arrays of watchers) must keep identical.
import assert from 'node:assert/strict';
import { Store, objectBytes, objectJson, watchLine, httpChunk, type KubeObject, type WatchDelivery } from '../../../../src/sandbox/api/index';

function deployment(name: string, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', labels: { app: name }, annotations },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'nginx:1.25', env: [{ name: 'A', value: 'b' }] }] } },
    },
  };
}

function fresh(): Store {
  const s = new Store();
  s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return s;
}

/** The bytes as the store used to build them: encode the JSON, wrap it in the line, frame the line. */
function expectedLine(type: string, o: unknown): Buffer {
  return Buffer.concat([Buffer.from(`{"type":"${type}","object":`), Buffer.from(JSON.stringify(o)), Buffer.from('}\n')]);
}
function expectedChunk(line: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${line.length.toString(16)}\r\n`), line, Buffer.from('\r\n')]);
}

/** Annotation values whose UTF-8 is longer than their UTF-16 length, and a lone surrogate (JSON.stringify escapes it). */
const WIDE = { ascii: 'plain', latin: 'grüße', cjk: '日本語', emoji: '🙂🚀', lone: 'a\ud800b' };

function isDeepFrozen(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  return Object.isFrozen(v) && Object.values(v).every(isDeepFrozen);
}

describe('sandbox store: what a write hands out', () => {
  it('a watch line and its HTTP chunk are the object JSON, byte for byte, with multi-byte text', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web'));
    const got: WatchDelivery[] = [];
    s.watch('deployments.apps', 'default', s.resourceVersion, undefined, (d) => got.push(d));
    s.modify('deployments.apps', 'default', 'web', (d) => void (d.metadata.annotations = { ...WIDE }));
    const [d] = got;
    const line = expectedLine('MODIFIED', d.object);
    assert.deepEqual(d.line(), line);
    assert.deepEqual(d.chunk(), expectedChunk(line));
    assert.ok(d.chunk().toString().includes('"lone":"a\\ud800b"'), 'a lone surrogate is sent escaped');
    assert.equal(d.line(), d.line(), 'built once');
    assert.equal(d.chunk(), d.chunk(), 'built once');
    assert.deepEqual(objectBytes(d.object), Buffer.from(JSON.stringify(d.object)), 'LIST bytes of the stored object');
    assert.equal(objectJson(d.object), JSON.stringify(d.object));
    assert.deepEqual(JSON.parse(d.line().toString()), { type: 'MODIFIED', object: JSON.parse(JSON.stringify(d.object)) });
  });

  it('one event as different types (selector watchers) gets a line per type, each with the same object bytes', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web'));
    const entering: WatchDelivery[] = [];
    const all: WatchDelivery[] = [];
    s.watch('deployments.apps', 'default', s.resourceVersion, { labelSelector: 'track=canary' }, (d) => entering.push(d));
    s.watch('deployments.apps', 'default', s.resourceVersion, undefined, (d) => all.push(d));
    s.modify('deployments.apps', 'default', 'web', (d) => void (d.metadata.labels = { app: 'web', track: 'canary' }));
    // The chunk for the event's own type first, so the other type is built from the cached object bytes.
    const modified = all[0].chunk();
    const added = entering[0].chunk();
    assert.equal(entering[0].type, 'ADDED');
    assert.equal(entering[0].object, all[0].object);
    assert.deepEqual(modified, expectedChunk(expectedLine('MODIFIED', all[0].object)));
    assert.deepEqual(added, expectedChunk(expectedLine('ADDED', all[0].object)));
    assert.deepEqual(entering[0].line(), expectedLine('ADDED', all[0].object));
  });

  it('synthetic ADDED events, leaving-the-selector DELETED events and watchLine carry the same bytes', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web', { note: '日本' }));
    const stored = s.get('deployments.apps', 'default', 'web');
    const initial: WatchDelivery[] = [];
    s.watch('deployments.apps', 'default', undefined, undefined, (d) => initial.push(d));
    assert.deepEqual(initial[0].chunk(), expectedChunk(expectedLine('ADDED', stored)));
    assert.deepEqual(initial[0].line(), expectedLine('ADDED', stored));
    assert.deepEqual(watchLine('DELETED', stored), expectedLine('DELETED', stored));

    const leaving: WatchDelivery[] = [];
    s.watch('deployments.apps', 'default', s.resourceVersion, { labelSelector: 'app=web' }, (d) => leaving.push(d));
    s.modify('deployments.apps', 'default', 'web', (d) => void (d.metadata.labels = { app: 'other' }));
    assert.equal(leaving[0].type, 'DELETED');
    assert.deepEqual(leaving[0].chunk(), expectedChunk(expectedLine('DELETED', leaving[0].object)));
    assert.deepEqual(httpChunk(leaving[0].line()), leaving[0].chunk());
  });

  it('an event replayed from history to a later watcher is the same bytes it was live', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web'));
    const from = s.resourceVersion;
    const live: WatchDelivery[] = [];
    s.watch('deployments.apps', 'default', from, undefined, (d) => live.push(d));
    s.modify('deployments.apps', 'default', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 5));
    const replayed: WatchDelivery[] = [];
    s.watch('deployments.apps', 'default', from, undefined, (d) => replayed.push(d));
    assert.equal(replayed[0].chunk(), live[0].chunk(), 'the same shared buffer');
  });

  it('stores deeply frozen objects from create, update, modify, patch and a finalizer delete', () => {
    const s = fresh();
    const created = s.create('deployments.apps', deployment('web'));
    assert.ok(isDeepFrozen(created));
    const modified = s.modify('deployments.apps', 'default', 'web', (d) => void (d.metadata.finalizers = ['x/y']));
    assert.ok(isDeepFrozen(modified));
    const updated = s.update('deployments.apps', { ...structuredClone(modified), spec: { ...(modified.spec as object), replicas: 4 } });
    assert.ok(isDeepFrozen(updated));
    const patched = s.patch('deployments.apps', 'default', 'web', 'merge', { metadata: { labels: { app: 'web', x: 'y' } } });
    assert.ok(isDeepFrozen(patched));
    const terminating = s.delete('deployments.apps', 'default', 'web');
    assert.ok(terminating.metadata.deletionTimestamp && isDeepFrozen(terminating));
  });

  it('drops nulls anywhere in a modified draft, keeping nulls inside arrays as they were', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web'));
    const out = s.modify('deployments.apps', 'default', 'web', (d) => {
      const spec = d.spec as Record<string, unknown>;
      spec.paused = null;
      (spec.template as { metadata: Record<string, unknown> }).metadata.creationTimestamp = null;
      d.metadata.annotations = { keep: 'yes', gone: null as unknown as string };
    });
    const spec = out.spec as Record<string, unknown>;
    assert.ok(!('paused' in spec));
    assert.ok(!('creationTimestamp' in (spec.template as { metadata: object }).metadata));
    assert.deepEqual(out.metadata.annotations, { keep: 'yes' });
  });

  // Cluster-wide watchers without a selector take the fan-out's direct path, namespaced ones the general one.
  for (const ns of ['default', undefined]) {
    it(`a watcher started during a delivery gets the next event, not the current one; one stopped during it gets nothing more (namespace ${ns ?? 'all'})`, () => {
      const s = fresh();
      s.create('deployments.apps', deployment('web'));
      const rv = s.resourceVersion;
      const seen: string[] = [];
      let second: ReturnType<Store['watch']> | undefined;
      s.watch('deployments.apps', ns, rv, undefined, (d) => {
        seen.push(`first:${d.object.metadata.resourceVersion}`);
        if (!second) second = s.watch('deployments.apps', ns, s.resourceVersion, undefined, (e) => seen.push(`second:${e.object.metadata.resourceVersion}`));
        else third.stop();
      });
      const third = s.watch('deployments.apps', ns, rv, undefined, (e) => seen.push(`third:${e.object.metadata.resourceVersion}`));
      const a = s.modify('deployments.apps', 'default', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 3)).metadata.resourceVersion;
      const b = s.modify('deployments.apps', 'default', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 4)).metadata.resourceVersion;
      assert.deepEqual(seen, [`first:${a}`, `third:${a}`, `first:${b}`, `second:${b}`]);
      second?.stop();
      s.modify('deployments.apps', 'default', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 5));
      assert.equal(seen.filter((x) => x.startsWith('second')).length, 1, 'a stopped watcher gets nothing');
      assert.equal(s.watcherCount(), 1);
    });
  }

  it('a write that changes nothing is no write, key order and undefined members included; any change is one', () => {
    const s = fresh();
    s.create('deployments.apps', deployment('web', { team: 'a' }));
    const seen: string[] = [];
    s.watch('deployments.apps', 'default', s.resourceVersion, undefined, (d) => seen.push(`${d.type}:${d.object.metadata.generation}`));
    const before = s.get('deployments.apps', 'default', 'web');
    const reordered = s.modify('deployments.apps', 'default', 'web', (d) => {
      d.spec = { ...Object.fromEntries(Object.entries(d.spec as object).reverse()), paused: undefined };
    });
    assert.equal(reordered, before, 'the stored object, unchanged');
    assert.deepEqual(seen, []);
    const labelled = s.modify('deployments.apps', 'default', 'web', (d) => void (d.metadata.labels = { app: 'web', tier: 'x' }));
    assert.equal(labelled.metadata.generation, 1, 'labels are metadata: no generation bump');
    const annotated = s.modify('deployments.apps', 'default', 'web', (d) => void (d.metadata.annotations = { team: 'b' }));
    assert.equal(annotated.metadata.generation, 2, 'annotations bump the generation');
    const scaled = s.modify('deployments.apps', 'default', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 7));
    assert.equal(scaled.metadata.generation, 3);
    assert.deepEqual(seen, ['MODIFIED:1', 'MODIFIED:2', 'MODIFIED:3']);
    assert.equal(s.modify('deployments.apps', 'default', 'web', (d) => void ((d.spec as { replicas: number }).replicas = 7)), scaled, 'the same value again: no write');
  });
  it('a namespaced watcher gets only its namespace, with or without a selector; a cluster-wide one gets all', () => {
    const s = fresh();
    s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    s.create('deployments.apps', deployment('web'));
    s.create('deployments.apps', { ...deployment('web'), metadata: { name: 'web', namespace: 'other', labels: { app: 'web' } } });
    const rv = s.resourceVersion;
    const seen: string[] = [];
    const watch = (label: string, ns: string | undefined, labelSelector?: string) =>
      s.watch('deployments.apps', ns, rv, labelSelector ? { labelSelector } : undefined, (d) => seen.push(`${label}:${d.type}:${d.object.metadata.namespace}`));
    watch('default', 'default');
    watch('other', 'other');
    watch('all', undefined);
    watch('default-app', 'default', 'app=web');
    watch('other-app', 'other', 'app=web');
    for (const ns of ['default', 'other']) s.modify('deployments.apps', ns, 'web', (d) => void ((d.spec as { replicas: number }).replicas = 9));
    assert.deepEqual(seen, [
      'default:MODIFIED:default', 'all:MODIFIED:default', 'default-app:MODIFIED:default',
      'other:MODIFIED:other', 'all:MODIFIED:other', 'other-app:MODIFIED:other',
    ]);
  });
});
