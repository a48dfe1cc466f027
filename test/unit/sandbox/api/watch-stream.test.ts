// The watch stream on the wire: the bytes the API server writes (pre-framed chunks from its end-of-tick
// writer) decoded with the benchmark's lean consumer (bench/sandbox.bench.ts), so both are checked: order
// of events and bookmarks, a burst committed in one tick, a cut stream's last events, and the decoder's
// handling of reads split anywhere.
import assert from 'node:assert/strict';
import net from 'node:net';
import { WatchDecoder } from '../../../../bench/sandbox.bench';
import { startBare, waitFor, type Harness } from './harness';

interface RawWatch {
  status: string;
  lines: string[];
  /** The terminating chunk arrived. */
  ended: boolean;
  /** Every byte received, to replay through a fresh decoder. */
  bytes: Buffer[];
  close(): void;
}

function rawWatch(url: string, path: string): Promise<RawWatch> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const w: RawWatch = { status: '', lines: [], ended: false, bytes: [], close: () => socket.destroy() };
    const decoder = new WatchDecoder(
      (status) => {
        w.status = status;
        resolve(w);
      },
      (line) => w.lines.push(line),
    );
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n`));
    socket.on('data', (b: Buffer) => {
      w.bytes.push(Buffer.from(b));
      decoder.push(b);
      // The connection stays open (keep-alive): the end of the stream is its terminating chunk.
      w.ended = decoder.finished;
    });
    socket.on('error', reject);
  });
}

const summary = (line: string) => {
  const ev = JSON.parse(line) as { type: string; object: { metadata: { name?: string; annotations?: Record<string, string> }; data?: { v?: string } } };
  return ev.type === 'BOOKMARK' ? `BOOKMARK${ev.object.metadata.annotations?.['k8s.io/initial-events-end'] ? ':end' : ''}` : `${ev.type}:${ev.object.metadata.name}${ev.object.data?.v ? `=${ev.object.data.v}` : ''}`;
};

describe('sandbox API: watch stream bytes', () => {
  let h: Harness;
  before(async () => {
    h = await startBare();
  });
  after(() => h.close());

  it('initial events, then the initial-events-end bookmark, then a burst committed in one tick, in commit order', async () => {
    for (const name of ['a', 'b']) h.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' } });
    const w = await rawWatch(h.url, '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0&sendInitialEvents=true&allowWatchBookmarks=true');
    assert.match(w.status, /^HTTP\/1\.1 200/);
    await waitFor('initial events and bookmark', () => w.lines.length >= 3);
    // One tick: these leave as one write per watcher and must arrive whole and in order.
    for (let i = 0; i < 50; i++) h.store.modify('configmaps', 'default', i % 2 ? 'b' : 'a', (d) => void (d.data = { v: String(i) }));
    await waitFor('the burst', () => w.lines.length >= 53);
    w.close();
    const expected = ['ADDED:a', 'ADDED:b', 'BOOKMARK:end', ...Array.from({ length: 50 }, (_, i) => `MODIFIED:${i % 2 ? 'b' : 'a'}=${i}`)];
    assert.deepEqual(w.lines.map(summary), expected);

    // The same bytes, delivered in reads split at every possible place, decode to the same lines.
    const all = Buffer.concat(w.bytes);
    for (const size of [1, 2, 3, 7, 64, 1000]) {
      const lines: string[] = [];
      const d = new WatchDecoder(() => undefined, (l) => lines.push(l));
      for (let i = 0; i < all.length; i += size) d.push(all.subarray(i, i + size));
      assert.deepEqual(lines, w.lines, `reads of ${size} bytes`);
    }
  });

  it('a stream cut after N events still carries those N events and then ends cleanly', async () => {
    h.api.faults.watchCutAfterEvents = 3;
    try {
      const w = await rawWatch(h.url, `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${h.store.resourceVersion}`);
      await waitFor('watch registered', () => h.store.watcherCount() >= 1);
      for (let i = 0; i < 5; i++) h.store.modify('configmaps', 'default', 'a', (d) => void (d.data = { v: `cut-${i}` }));
      await waitFor('stream end', () => w.ended);
      assert.deepEqual(w.lines.map(summary), ['MODIFIED:a=cut-0', 'MODIFIED:a=cut-1', 'MODIFIED:a=cut-2']);
      assert.ok(Buffer.concat(w.bytes).subarray(-5).equals(Buffer.from('0\r\n\r\n')), 'the terminating chunk comes last');
    } finally {
      h.api.faults.watchCutAfterEvents = 0;
    }
  });

  it('the decoder handles several lines per chunk, a line across chunks and chunk extensions, and rejects bad framing', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const lines: string[] = [];
    const d = new WatchDecoder(() => undefined, (l) => lines.push(l));
    d.push(Buffer.from(`${head}8\r\n{"a":1}\n\r\n4;x=y\r\n{"b"\r\n7\r\n:2}\n{}\n\r\n0\r\n\r\n`));
    assert.deepEqual(lines, ['{"a":1}', '{"b":2}', '{}']);
    const bad = new WatchDecoder(() => undefined, () => undefined);
    assert.throws(() => bad.push(Buffer.from(`${head}zz\r\n`)), /bad chunk size/);
    const overrun = new WatchDecoder(() => undefined, () => undefined);
    assert.throws(() => overrun.push(Buffer.from(`${head}2\r\n{}xx`)), /not followed by CRLF/);
    const plain = new WatchDecoder(() => undefined, () => undefined);
    assert.throws(() => plain.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}')), /not chunked/);
  });
});
