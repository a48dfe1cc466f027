import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { KubeError, WatchEvent, WatchHandle } from '../../../src/engine/ports';
import type { KubeHttp } from '../../../src/kube/http';
import { resourceOf } from '../../../src/kube/resources';
import { informer, watchTimeoutSeconds, type InformerOptions } from '../../../src/kube/watch';
import { cm, FakeApi, type OpenWatch } from './fakeapi';

describe('informer (LIST + watch): what a stream ending costs', function () {
  this.timeout(15_000);
  let api: FakeApi;
  let http: KubeHttp;
  let handle: WatchHandle | undefined;
  let events: string[];
  let errors: KubeError[];
  let recoveries = 0;
  const seen = new EventEmitter();
  /** Resolves once the informer delivered `what` (e.g. 'MODIFIED a@12'); fails after a deadline. */
  const delivered = (what: string, ms = 5000) =>
    new Promise<void>((resolve, reject) => {
      if (events.includes(what)) return resolve();
      const timer = setTimeout(() => {
        seen.off('event', on);
        reject(new Error(`informer did not deliver ${what} within ${ms} ms (got ${events.join(', ')})`));
      }, ms);
      const on = (e: string) => {
        if (e !== what) return;
        clearTimeout(timer);
        seen.off('event', on);
        resolve();
      };
      seen.on('event', on);
    });

  beforeEach(async () => {
    api = await new FakeApi().start();
    http = api.client();
    events = [];
    errors = [];
    recoveries = 0;
  });
  afterEach(async () => {
    handle?.dispose();
    handle = undefined;
    http.dispose();
    await api.close();
  });

  const start = (opts: InformerOptions = {}) => {
    handle = informer(
      http,
      resourceOf('v1', 'ConfigMap')!,
      'v1',
      'ConfigMap',
      'ns',
      'app=a',
      (e: WatchEvent) => {
        const s = `${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`;
        events.push(s);
        seen.emit('event', s);
      },
      (e) => errors.push(e),
      { minBackoffMs: 5, maxBackoffMs: 20, watchList: false, ...opts },
      () => {
        recoveries++;
        seen.emit('recovered');
      },
    );
    return handle;
  };

  it('a watch the server ends at its timeoutSeconds resumes from the last version seen, without a LIST', async () => {
    api.items = [cm('a', '5')];
    api.listRv = '10';
    const first = api.next<OpenWatch>('watch');
    await start({ timeoutSeconds: 60 }).synced;
    const w1 = await first;
    assert.equal(w1.query.get('resourceVersion'), '10');
    assert.equal(w1.query.get('labelSelector'), 'app=a');
    const t = Number(w1.query.get('timeoutSeconds'));
    assert.ok(t >= 60 && t < 120, `timeoutSeconds ${t} outside [60, 120)`);
    w1.send('ADDED', cm('b', '11'));
    await delivered('ADDED b@11');
    w1.send('BOOKMARK', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '15' } });
    const second = api.next<OpenWatch>('watch');
    w1.res.end(); // what the API server does at timeoutSeconds
    const w2 = await second;
    assert.equal(w2.query.get('resourceVersion'), '15', 'resumes from the bookmark, the newest version seen');
    assert.equal(api.lists.length, 1, 'no relist');
    assert.deepEqual(events, ['ADDED a@5', 'ADDED b@11']);
    assert.deepEqual(errors, []);
  });

  it('a stream cut by a network error resumes from its resourceVersion, unreported', async () => {
    api.items = [cm('a', '5')];
    api.listRv = '10';
    const first = api.next<OpenWatch>('watch');
    await start().synced;
    const w1 = await first;
    w1.send('MODIFIED', cm('a', '12', { v: '2' }));
    await delivered('MODIFIED a@12');
    const second = api.next<OpenWatch>('watch');
    w1.res.socket!.destroy(); // a reset connection mid-stream

    const w2 = await second;
    assert.equal(w2.query.get('resourceVersion'), '12');
    assert.equal(api.lists.length, 1, 'no relist');
    assert.deepEqual(events, ['ADDED a@5', 'MODIFIED a@12']);
    assert.deepEqual(errors, [], 'a cut that the next watch repairs is not an error to show');
    assert.equal(recoveries, 0, 'nothing was reported, so there is nothing to take back');
  });

  it('410 Expired in the stream relists and emits only the difference', async () => {
    api.items = [cm('a', '1'), cm('b', '2'), cm('c', '3')];
    api.listRv = '5';
    const first = api.next<OpenWatch>('watch');
    await start().synced;
    const w1 = await first;
    events.length = 0;
    // Meanwhile b was deleted, c changed, d created; a is as it was.
    api.items = [cm('a', '1'), cm('c', '7'), cm('d', '8')];
    api.listRv = '9';
    const relist = api.next('list');
    const second = api.next<OpenWatch>('watch');
    w1.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 5 (9)' });
    w1.res.end();
    await relist;
    const w2 = await second;
    assert.equal(w2.query.get('resourceVersion'), '9');
    assert.deepEqual(events.sort(), ['ADDED d@8', 'DELETED b@2', 'MODIFIED c@7']);
    assert.equal(api.lists.length, 2);
    assert.deepEqual(errors, []);
  });

  it('a watch refused with HTTP 410 relists too', async () => {
    api.listRv = '5';
    const first = api.next<OpenWatch>('watch');
    await start().synced;
    const w1 = await first;
    api.watchStatus = 410;
    api.items = [cm('x', '6')];
    api.listRv = '6';
    const refused = api.next<OpenWatch>('watch');
    const relist = api.next('list');
    w1.res.end();
    await refused;
    api.watchStatus = undefined;
    const again = api.next<OpenWatch>('watch');
    await relist;
    assert.equal((await again).query.get('resourceVersion'), '6');
    assert.deepEqual(events, ['ADDED x@6']);
  });

  it('a watch that cannot be re-opened is reported and retried from its version, not relisted', async () => {
    api.listRv = '10';
    const first = api.next<OpenWatch>('watch');
    await start().synced;
    const w1 = await first;
    api.watchStatus = 503;
    const refused = api.next<OpenWatch>('watch');
    w1.res.end();
    await refused;
    // The next attempt is let through: it must ask from the same version.
    const retried = api.next<OpenWatch>('watch');
    api.watchStatus = undefined;
    const w = await retried;
    assert.equal(w.query.get('resourceVersion'), '10');
    assert.equal(api.lists.length, 1);
    assert.ok(errors.length >= 1, 'the refusal is reported');
    assert.equal(errors[0].code, 503);
    assert.equal(errors[0].transient, true);
    // The stream that opens again says so, so a listener can take the error off the screen although
    // nothing changed while the watch was down.
    if (recoveries === 0) await new Promise<void>((r) => seen.once('recovered', () => r()));
    assert.equal(recoveries, 1);
  });

  it('dispose ends the watch and starts nothing more', async () => {
    const first = api.next<OpenWatch>('watch');
    await start().synced;
    const w1 = await first;
    const closed = new Promise<void>((r) => w1.res.on('close', () => r()));
    handle!.dispose();
    await closed;
    const before = api.watches.length + api.lists.length;
    // One more round trip to the server proves nothing was queued behind the dispose.
    await http.request({ method: 'GET', path: '/api/v1/namespaces/ns/configmaps', describe: { verb: 'list', resource: 'configmaps' } });
    assert.equal(api.watches.length + api.lists.length, before + 1);
  });
});

describe('informer (watch-list): one streaming request per sync', function () {
  this.timeout(15_000);
  let api: FakeApi;
  let http: KubeHttp;
  const handles: WatchHandle[] = [];
  let events: string[];
  let errors: KubeError[];
  beforeEach(async () => {
    api = await new FakeApi().start();
    http = api.client();
    events = [];
    errors = [];
  });
  afterEach(async () => {
    for (const h of handles.splice(0)) h.dispose();
    http.dispose();
    await api.close();
  });
  const start = (opts: InformerOptions = {}) => {
    const h = informer(
      http,
      resourceOf('v1', 'ConfigMap')!,
      'v1',
      'ConfigMap',
      'ns',
      undefined,
      (e: WatchEvent) => events.push(`${e.type} ${e.object.metadata.name}@${e.object.metadata.resourceVersion}`),
      (e) => errors.push(e),
      { minBackoffMs: 5, maxBackoffMs: 20, ...opts },
    );
    handles.push(h);
    return h;
  };
  /** Starts an informer on a server that streams `items` at `listRv` (watch-list); once synced, its open stream. */
  const syncOnStream = async (items: FakeApi['items'], listRv: string): Promise<OpenWatch> => {
    api.watchList = 'stream';
    api.items = items;
    api.listRv = listRv;
    const first = api.next<OpenWatch>('watch');
    await start().synced;
    return first;
  };

  it('syncs from the stream alone (no LIST), keeps watching on it, and resumes from its version', async () => {
    const w1 = await syncOnStream([cm('a', '3'), cm('b', '4')], '10');
    assert.equal(w1.query.get('sendInitialEvents'), 'true');
    assert.equal(w1.query.get('resourceVersionMatch'), 'NotOlderThan');
    assert.equal(w1.query.get('allowWatchBookmarks'), 'true');
    assert.equal(w1.query.get('resourceVersion'), null);
    assert.deepEqual(events, ['ADDED a@3', 'ADDED b@4']);
    const second = api.next<OpenWatch>('watch');
    w1.send('DELETED', cm('a', '11'));
    w1.res.end();
    const w2 = await second;
    assert.equal(w2.query.get('resourceVersion'), '11', 'an ordinary watch from the last event');
    assert.equal(w2.query.get('sendInitialEvents'), null);
    assert.deepEqual(events, ['ADDED a@3', 'ADDED b@4', 'DELETED a@11']);
    assert.equal(api.lists.length, 0);
    assert.deepEqual(errors, []);
  });

  it('after 410 it streams the state again and emits only the difference', async () => {
    const w1 = await syncOnStream([cm('a', '1'), cm('b', '2')], '5');
    events.length = 0;
    api.items = [cm('a', '1'), cm('c', '7')];
    api.listRv = '9';
    const resync = api.next<OpenWatch>('watch');
    w1.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' });
    w1.res.end();
    const w2 = await resync;
    assert.equal(w2.query.get('sendInitialEvents'), 'true');
    // The difference is emitted once the marker arrived; one more stream end proves it was processed.
    const third = api.next<OpenWatch>('watch');
    w2.res.end();
    assert.equal((await third).query.get('resourceVersion'), '9');
    assert.deepEqual(events.sort(), ['ADDED c@7', 'DELETED b@2']);
    assert.equal(api.lists.length, 0);
  });

  it('streaming an initial state holds a read slot until its end marker, so starts are paced like LISTs', async () => {
    http.dispose();
    http = api.client({ maxReadsInFlight: 1 });
    api.watchList = 'ignore'; // the test sends the marker itself
    api.items = [cm('a', '1')];
    api.listRv = '5';
    const first = api.next<OpenWatch>('watch');
    const h1 = start({ initialEventsTimeoutMs: 60_000 });
    const w1 = await first;
    const second = api.next<OpenWatch>('watch');
    start({ initialEventsTimeoutMs: 60_000 });
    // The second informer waits for the slot while the first one's initial state is streaming.
    const deadline = Date.now() + 5000;
    while (http.pendingReads().waiting === 0 && api.watches.length === 1 && Date.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.deepEqual(http.pendingReads(), { inFlight: 1, waiting: 1 });
    assert.equal(api.watches.length, 1);
    w1.send('BOOKMARK', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: '5', annotations: { 'k8s.io/initial-events-end': 'true' } } });
    await h1.synced;
    const w2 = await second;
    assert.equal(w2.query.get('sendInitialEvents'), 'true');
    assert.deepEqual(events, ['ADDED a@1']);
  });

  it('a re-sync whose stream is cut twice before its end marker gets a LIST', async () => {
    const w1 = await syncOnStream([cm('a', '1')], '5');
    api.watchList = 'ignore'; // from now on the initial state streams but its marker never comes
    api.items = [cm('a', '1'), cm('b', '6')];
    api.listRv = '6';
    const cut1 = api.next<OpenWatch>('watch');
    w1.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' });
    w1.res.end();
    const r1 = await cut1;
    const cut2 = api.next<OpenWatch>('watch');
    r1.res.socket!.destroy();
    const r2 = await cut2;
    assert.equal(r2.query.get('sendInitialEvents'), 'true');
    const listed = api.next('list');
    r2.res.socket!.destroy();
    await listed;
    const after = api.next<OpenWatch>('watch');
    assert.equal((await after).query.get('resourceVersion'), '6');
    assert.deepEqual(events, ['ADDED a@1', 'ADDED b@6']);
    assert.notEqual(http.watchListSupported, false, 'cut streams do not turn watch-list off');
  });

  it('a server that refuses it (400) gets LIST + watch, for every informer of the connection', async () => {
    api.watchList = 400;
    api.items = [cm('a', '1')];
    api.listRv = '5';
    await start().synced;
    assert.deepEqual(events, ['ADDED a@1']);
    assert.equal(api.initialWatches, 1);
    assert.equal(api.lists.length, 1);
    assert.deepEqual(errors, [], 'a refused watch-list is no error: the LIST takes over');
    await start().synced;
    assert.equal(api.initialWatches, 1, 'the second informer lists straight away');
    assert.equal(api.lists.length, 2);
  });

  it('a server that ignores it (no end marker) gets LIST + watch after a short silence', async () => {
    api.watchList = 'ignore';
    api.items = [cm('a', '1')];
    api.listRv = '5';
    const listed = api.next('list');
    const h = start({ initialEventsTimeoutMs: 50 });
    await listed;
    await h.synced;
    assert.deepEqual(events, ['ADDED a@1'], 'the ignored stream\'s objects are not emitted twice');
    assert.equal(http.watchListSupported, false);
  });
});

describe('watch timeouts are jittered', () => {
  it('each watch asks for a duration in [timeoutSeconds, 2 × timeoutSeconds), so renewals spread out', () => {
    assert.equal(watchTimeoutSeconds({ timeoutSeconds: 300, random: () => 0 }), 300);
    assert.equal(watchTimeoutSeconds({ timeoutSeconds: 300, random: () => 0.9999 }), 599);
    assert.equal(watchTimeoutSeconds({ timeoutSeconds: 300, jitter: false, random: () => 0.5 }), 300);
    const draws = Array.from({ length: 200 }, () => watchTimeoutSeconds({}));
    assert.ok(draws.every((t) => t >= 300 && t < 600 && Number.isInteger(t)));
    assert.ok(new Set(draws).size > 50, `only ${new Set(draws).size} distinct timeouts in 200 draws`);
  });
});
