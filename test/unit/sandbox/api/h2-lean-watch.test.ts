// The benchmark's lean HTTP/2 watch client (bench/h2watch.ts) against the API server: every event at every
// watch in commit order over cleartext and TLS, the server's stream limit honoured by opening another
// connection, flow control given back, the frame decoder fed the server's bytes split anywhere, and
// failures (a non-200 response, GOAWAY) reported rather than hanging.
import assert from 'node:assert/strict';
import net from 'node:net';
import { clientPreface, frame, getRequestBlock, H2Reader, openLeanH2Watches, statusOf, STREAM_WINDOW } from '../../../../bench/h2watch';
import { servingCertificate } from '../../../../src/sandbox/api/tls';
import { startBare, waitFor, type Harness } from './harness';

const WATCH = '/api/v1/namespaces/default/configmaps?watch=1';

describe('sandbox: the benchmark’s lean HTTP/2 watch client', function () {
  this.timeout(30_000);
  let h: Harness;
  afterEach(async () => h?.close());

  /** Creates and changes configmaps; returns the resourceVersions committed, in order. */
  function commit(count: number): string[] {
    const rvs: string[] = [];
    for (let i = 0; i < count; i++) {
      const o = h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: 'default' }, data: { i: String(i) } });
      rvs.push(o.metadata.resourceVersion!);
    }
    return rvs;
  }

  for (const overTls of [false, true]) {
    it(`delivers every event to 150 watches in commit order over ${overTls ? 'TLS (ALPN h2)' : 'cleartext'}, on two connections`, async () => {
      const cert = overTls ? await servingCertificate() : undefined;
      h = await startBare({ server: cert ? { tls: cert } : {} });
      const perWatch: string[][] = Array.from({ length: 150 }, () => []);
      const w = await openLeanH2Watches(
        h.url,
        WATCH,
        150,
        (line, k) => {
          const ev = JSON.parse(line) as { type: string; object: { metadata: { resourceVersion: string } } };
          assert.equal(ev.type, 'ADDED');
          perWatch[k].push(ev.object.metadata.resourceVersion);
        },
        cert?.cert,
      );
      try {
        assert.equal(w.clients.length, 150);
        await waitFor('all 150 watches registered', () => h.store.watcherCount() >= 150);
        const rvs = commit(20);
        await waitFor('20 events at each of 150 watches', () => w.clients.every((c) => c.received === 20));
        // Every watch got every event, in commit order.
        for (const got of perWatch) assert.deepEqual(got, rvs);
        // kube-apiserver's limit is 100 streams per connection: the client opened a second one.
        assert.equal(w.connections, 2);
        assert.equal(h.api.requestsByHttpVersion()['2.0'], 150);
      } finally {
        w.close();
      }
      await waitFor('watches gone after close', () => h.store.watcherCount() === 0);
    });
  }

  it('keeps each watch’s events in order, lines spanning frames included', async () => {
    h = await startBare();
    const got: { rv: number; size: number }[] = [];
    const w = await openLeanH2Watches(h.url, WATCH, 1, (line) => {
      const ev = JSON.parse(line) as { object: { metadata: { resourceVersion: string }; data: { big: string } } };
      got.push({ rv: Number(ev.object.metadata.resourceVersion), size: ev.object.data.big.length });
    });
    try {
      await waitFor('watch registered', () => h.store.watcherCount() === 1);
      // 40 KB objects: each event spans several DATA frames (16 KB each by default).
      for (let i = 0; i < 30; i++) h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `big-${i}`, namespace: 'default' }, data: { big: 'x'.repeat(40_000 + i) } });
      await waitFor('30 events', () => got.length === 30);
      assert.deepEqual(got.map((g) => g.size), Array.from({ length: 30 }, (_, i) => 40_000 + i));
      assert.ok(got.every((g, i) => i === 0 || g.rv > got[i - 1].rv), 'events arrive in commit order');
    } finally {
      w.close();
    }
  });

  it('gives the stream window back, so a watch outlives its initial window', async () => {
    h = await startBare();
    let received = 0;
    const w = await openLeanH2Watches(h.url, WATCH, 1, () => received++);
    try {
      await waitFor('watch registered', () => h.store.watcherCount() === 1);
      // 3 × the stream window in ~100 KB events: without WINDOW_UPDATEs the server would stop sending.
      const n = Math.ceil((3 * STREAM_WINDOW) / 100_000);
      for (let i = 0; i < n; i++) h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `w-${i}`, namespace: 'default' }, data: { big: 'y'.repeat(100_000) } });
      await waitFor(`${n} events`, () => received === n, 20_000);
    } finally {
      w.close();
    }
  });

  it('decodes the server’s bytes split at any point the same way', async () => {
    h = await startBare();
    // A raw connection that records every byte the server sends for one watch.
    const { port } = new URL(h.url);
    const bytes: Buffer[] = [];
    const socket = net.connect({ port: Number(port), host: '127.0.0.1' });
    const live = new H2Reader((b) => socket.write(b), () => socket.write(frame(0x1, 0x5, 1, getRequestBlock(WATCH, `127.0.0.1:${port}`, 'http'))), (m) => assert.fail(m));
    const liveLines: string[] = [];
    live.open(1, { onHeaders: (s) => assert.equal(s, 200), onLine: (l) => liveLines.push(l), onEnd: () => {} });
    socket.on('data', (b: Buffer) => {
      bytes.push(Buffer.from(b));
      live.push(b);
    });
    socket.write(clientPreface());
    try {
      await waitFor('watch registered', () => h.store.watcherCount() === 1);
      commit(5);
      h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'default' }, data: { big: 'z'.repeat(20_000) } });
      await waitFor('6 events', () => liveLines.length === 6);
    } finally {
      socket.destroy();
    }
    const all = Buffer.concat(bytes);
    for (const step of [1, 7, 9, 10, 4096]) {
      const lines: string[] = [];
      const r = new H2Reader(() => {}, () => {}, (m) => assert.fail(m));
      r.open(1, { onHeaders: (s) => assert.equal(s, 200), onLine: (l) => lines.push(l), onEnd: () => {} });
      for (let i = 0; i < all.length; i += step) r.push(all.subarray(i, i + step));
      assert.deepEqual(lines, liveLines, `reads of ${step} bytes`);
    }
  });

  it('reports a non-200 response and a GOAWAY instead of waiting forever', async () => {
    h = await startBare();
    await assert.rejects(openLeanH2Watches(h.url, '/api/v1/namespaces/default/nosuchthings?watch=1', 1, () => {}), /HTTP 404/);
    const errors: string[] = [];
    const r = new H2Reader(() => {}, () => {}, (m) => errors.push(m));
    const settings = frame(0x4, 0, 0);
    const goaway = Buffer.alloc(8 + 4);
    goaway.writeUInt32BE(11, 4); // ENHANCE_YOUR_CALM
    goaway.write('bye', 8);
    r.push(Buffer.concat([settings, frame(0x7, 0, 0, goaway.subarray(0, 11))]));
    assert.deepEqual(errors, ['the server sent GOAWAY (error code 11): bye']);
  });

  it('strips padding from DATA and HEADERS and skips a HEADERS priority block', () => {
    const lines: string[] = [];
    const statuses: (number | undefined)[] = [];
    const r = new H2Reader(() => {}, () => {}, (m) => assert.fail(m));
    r.open(3, { onHeaders: (s) => statuses.push(s), onLine: (l) => lines.push(l), onEnd: () => {} });
    // HEADERS, PADDED | PRIORITY | END_HEADERS: pad length 2, 5 bytes of priority, the block (:status 200), the pad.
    const headers = frame(0x1, 0x8 | 0x20 | 0x4, 3, Buffer.from([2, 0, 0, 0, 1, 16, 0x88, 0xff, 0xff]));
    // DATA, PADDED: pad length 3, `{"a":1}\n{"b"`, 3 bytes of pad whose 0x0a must not count as a newline; then the rest unpadded.
    const data1 = frame(0x0, 0x8, 3, Buffer.concat([Buffer.from([3]), Buffer.from('{"a":1}\n{"b"'), Buffer.from([0x0a, 0x0a, 0x0a])]));
    const data2 = frame(0x0, 0, 3, Buffer.from(':2}\n'));
    r.push(Buffer.concat([frame(0x4, 0, 0), headers, data1, data2]));
    assert.deepEqual(statuses, [200]);
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}']);
  });

  it('reads :status from the static table, after dynamic table size updates', () => {
    assert.equal(statusOf(Buffer.from([0x88, 0x5f])), 200);
    assert.equal(statusOf(Buffer.from([0x8d])), 404);
    assert.equal(statusOf(Buffer.from([0x20, 0x3f, 0xe1, 0x1f, 0x88])), 200);
    // A literal :status (not in the static table, e.g. 410) cannot be read without a full HPACK decoder.
    assert.equal(statusOf(Buffer.from([0x08, 0x03, 0x34, 0x31, 0x30])), undefined);
  });
});
