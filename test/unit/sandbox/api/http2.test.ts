// HTTP/2 on the API server's port (h2c with prior knowledge, as transport.ts explains): the same API as
// over HTTP/1.1, on the same port at the same time, with kube-apiserver's stream limit and clean shutdown.
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { H2_MAX_STREAMS, sniffProtocol } from '../../../../src/sandbox/api/transport';
import { startBare, waitFor, type Harness } from './harness';

interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

function h2request(session: http2.ClientHttp2Session, path: string, opts: { method?: string; body?: unknown; contentType?: string } = {}): Promise<H2Response> {
  return new Promise((resolve, reject) => {
    const headers: http2.OutgoingHttpHeaders = { ':path': path, ':method': opts.method ?? 'GET', accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    const stream = session.request(headers, { endStream: opts.body === undefined });
    let status = 0;
    let responseHeaders: http2.IncomingHttpHeaders = {};
    let body = '';
    stream.setEncoding('utf8');
    stream.on('response', (h) => {
      status = Number(h[':status']);
      responseHeaders = h;
    });
    stream.on('data', (d: string) => (body += d));
    stream.on('end', () => resolve({ status, headers: responseHeaders, body }));
    stream.on('error', reject);
    if (opts.body !== undefined) stream.end(JSON.stringify(opts.body));
  });
}

/** An open watch over HTTP/2: the parsed events so far. */
function h2watch(session: http2.ClientHttp2Session, path: string): { events: { type: string; object: { metadata: { name?: string; annotations?: Record<string, string> }; data?: Record<string, string> } }[]; ended: () => boolean; close(): void; headers: Promise<http2.IncomingHttpHeaders> } {
  const stream = session.request({ ':path': path, accept: 'application/json' });
  const events: ReturnType<typeof h2watch>['events'] = [];
  let carry = '';
  let ended = false;
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    carry += d;
    for (let nl = carry.indexOf('\n'); nl >= 0; nl = carry.indexOf('\n')) {
      events.push(JSON.parse(carry.slice(0, nl)) as (typeof events)[number]);
      carry = carry.slice(nl + 1);
    }
  });
  stream.on('end', () => (ended = true));
  stream.on('error', () => (ended = true));
  return { events, ended: () => ended, close: () => stream.close(), headers: new Promise((r) => stream.once('response', r)) };
}

function h1get(url: string): Promise<{ status: number; version: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, version: res.httpVersion, body }));
      })
      .on('error', reject);
  });
}

describe('sandbox API: HTTP/2 (h2c, prior knowledge)', () => {
  let h: Harness;
  let session: http2.ClientHttp2Session;
  before(async () => {
    h = await startBare();
    session = http2.connect(h.url);
    await new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('error', reject);
    });
  });
  after(async () => {
    session?.destroy();
    await h?.close();
  });

  it('tells the protocol from the first bytes, waiting while they could still be the HTTP/2 preface', () => {
    const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
    assert.equal(sniffProtocol(preface), 'h2c');
    assert.equal(sniffProtocol(Buffer.concat([preface, Buffer.from([0, 0, 0, 4])])), 'h2c');
    assert.equal(sniffProtocol(preface.subarray(0, 10)), undefined);
    assert.equal(sniffProtocol(Buffer.from('P')), undefined);
    assert.equal(sniffProtocol(Buffer.from('POST /api HTTP/1.1\r\n')), 'http/1.1');
    assert.equal(sniffProtocol(Buffer.from('GET / HTTP/1.1\r\n')), 'http/1.1');
    assert.equal(sniffProtocol(Buffer.from('PRI * HTTP/1.1\r\n\r\n')), 'http/1.1');
  });

  it("announces kube-apiserver's limit of 100 concurrent streams per connection", () => {
    assert.equal(session.remoteSettings.maxConcurrentStreams, H2_MAX_STREAMS);
    assert.equal(H2_MAX_STREAMS, 100);
  });

  it('serves discovery, CRUD, patches and Status errors as over HTTP/1.1, on the same port at the same time', async () => {
    const version = await h2request(session, '/version');
    assert.equal(version.status, 200);
    assert.equal((JSON.parse(version.body) as { major: string }).major, '1');
    const api = JSON.parse((await h2request(session, '/api')).body) as { serverAddressByClientCIDRs: { serverAddress: string }[] };
    assert.equal(api.serverAddressByClientCIDRs[0].serverAddress, new URL(h.url).host, 'the :authority header stands for Host');

    const created = await h2request(session, '/api/v1/namespaces/default/configmaps', { method: 'POST', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-h2' }, data: { a: '1' } } });
    assert.equal(created.status, 201, created.body);
    assert.deepEqual(h.store.get('configmaps', 'default', 'over-h2').data, { a: '1' });
    const patched = await h2request(session, '/api/v1/namespaces/default/configmaps/over-h2', { method: 'PATCH', body: { data: { b: '2' } }, contentType: 'application/merge-patch+json' });
    assert.equal(patched.status, 200, patched.body);
    assert.deepEqual((JSON.parse(patched.body) as { data: Record<string, string> }).data, { a: '1', b: '2' });
    const stale = await h2request(session, '/api/v1/namespaces/default/configmaps/over-h2', { method: 'PUT', body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'over-h2', resourceVersion: '1' }, data: {} } });
    assert.equal(stale.status, 409);
    assert.equal((JSON.parse(stale.body) as { reason: string }).reason, 'Conflict');
    const missing = await h2request(session, '/api/v1/namespaces/default/configmaps/nope');
    assert.equal(missing.status, 404);
    assert.equal((JSON.parse(missing.body) as { kind: string; code: number }).kind, 'Status');

    // An HTTP/1.1 client on the same port, while the HTTP/2 session stays open.
    const list = await h1get(`${h.url}/api/v1/namespaces/default/configmaps`);
    assert.equal(list.version, '1.1');
    assert.deepEqual((JSON.parse(list.body) as { items: { metadata: { name: string } }[] }).items.map((i) => i.metadata.name), ['over-h2']);
    const deleted = await h2request(session, '/api/v1/namespaces/default/configmaps/over-h2', { method: 'DELETE' });
    assert.equal(deleted.status, 200);
  });

  it('streams watches as DATA frames: initial events, the end bookmark, then changes in commit order on many streams of one connection', async () => {
    h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w', namespace: 'default' }, data: { v: '0' } });
    const watches = Array.from({ length: 20 }, () => h2watch(session, '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0&sendInitialEvents=true&allowWatchBookmarks=true'));
    const headers = await watches[0].headers;
    assert.equal(headers[':status'], 200);
    assert.equal(headers['transfer-encoding'], undefined, 'no connection-specific headers in HTTP/2');
    await waitFor('every watch registered', () => h.store.watcherCount() >= 20);
    for (let i = 1; i <= 30; i++) h.store.modify('configmaps', 'default', 'w', (d) => void (d.data = { v: String(i) }));
    h.store.delete('configmaps', 'default', 'w');
    await waitFor('every stream has every event', () => watches.every((w) => w.events.length >= 33));
    const expected = ['ADDED:0', 'BOOKMARK', ...Array.from({ length: 30 }, (_, i) => `MODIFIED:${i + 1}`), 'DELETED:30'];
    for (const w of watches) assert.deepEqual(w.events.map((e) => (e.type === 'BOOKMARK' ? 'BOOKMARK' : `${e.type}:${e.object.data?.v}`)), expected);
    for (const w of watches) w.close();
    await waitFor('the server dropped the closed streams', () => h.api.openWatches() === 0);
  });

  it('keeps every stream in commit order when a commit is written a slice of streams at a time, through bursts and closed streams', async () => {
    // More streams than the writer handles per turn of the event loop, so commits land while earlier
    // ones are still being written; some streams close with events pending.
    h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 's', namespace: 'default' }, data: { v: '0' } });
    const watches = Array.from({ length: 90 }, () => h2watch(session, '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0&sendInitialEvents=true&allowWatchBookmarks=true'));
    await waitFor('every watch registered', () => h.store.watcherCount() >= 90);
    const modify = (i: number) => h.store.modify('configmaps', 'default', 's', (d) => void (d.data = { v: String(i) }));
    // A burst in one tick, then commits one turn of the event loop apart.
    for (let i = 1; i <= 15; i++) modify(i);
    for (const w of watches.slice(80)) w.close();
    for (let i = 16; i <= 30; i++) {
      modify(i);
      await new Promise((r) => setImmediate(r));
    }
    const open = watches.slice(0, 80);
    await waitFor('every open stream has every event', () => open.every((w) => w.events.length >= 32));
    const expected = ['ADDED:0', 'BOOKMARK', ...Array.from({ length: 30 }, (_, i) => `MODIFIED:${i + 1}`)];
    for (const w of open) assert.deepEqual(w.events.map((e) => (e.type === 'BOOKMARK' ? 'BOOKMARK' : `${e.type}:${e.object.data?.v}`)), expected);
    for (const w of open) w.close();
    await waitFor('the server dropped the closed streams', () => h.api.openWatches() === 0);
    h.store.delete('configmaps', 'default', 's');
  });

  it('close() ends HTTP/2 watch streams and sessions', async () => {
    const other = await startBare();
    const s = http2.connect(other.url);
    const w = h2watch(s, '/api/v1/namespaces/default/configmaps?watch=1');
    await w.headers;
    await waitFor('the watch registered', () => other.store.watcherCount() === 1);
    await other.close();
    await waitFor('the stream ended', () => w.ended());
    await waitFor('the session closed', () => s.closed || s.destroyed);
    s.destroy();
  });
});
