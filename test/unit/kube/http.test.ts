import assert from 'node:assert/strict';
import { LineSplitter } from '../../../src/kube/http';
import { FakeApi, type HeldRequest } from './fakeapi';

const list = { verb: 'list', resource: 'configmaps' };

describe('KubeHttp at scale', function () {
  this.timeout(15_000);
  let api: FakeApi;
  beforeEach(async () => {
    api = await new FakeApi().start();
  });
  afterEach(async () => api.close());

  it('keeps at most maxReadsInFlight reads at the server; the rest wait their turn, writes do not', async () => {
    api.hold = true;
    const http = api.client({ maxReadsInFlight: 3 });
    const arrived: HeldRequest[] = [];
    api.on('held', (h: HeldRequest) => arrived.push(h));
    const threeHeld = new Promise<void>((r) => api.on('held', () => arrived.length === 3 && r()));
    const reads = Array.from({ length: 10 }, (_, i) => http.request<{ i: number }>({ method: 'GET', path: `/api/v1/namespaces/n${i}/configmaps`, describe: list }));
    await threeHeld;
    assert.deepEqual(http.pendingReads(), { inFlight: 3, waiting: 7 });
    // A write goes straight through while three reads hold every slot.
    const write = api.next<HeldRequest>('held');
    const created = http.request({ method: 'POST', path: '/api/v1/namespaces/n0/configmaps', body: { metadata: { name: 'x' } }, describe: { verb: 'create', resource: 'configmaps' } });
    const w = await write;
    assert.equal(w.method, 'POST');
    w.release({ created: true });
    assert.deepEqual(await created, { created: true });
    // Each answer lets exactly one waiting read in, in the order they were asked.
    for (let i = 0; i < 10; i++) {
      const next = i + 3 < 10 ? api.next<HeldRequest>('held') : undefined;
      arrived.filter((h) => h.method === 'GET')[i].release({ i });
      await next;
    }
    assert.deepEqual(
      (await Promise.all(reads)).map((r) => r.i),
      Array.from({ length: 10 }, (_, i) => i),
    );
    assert.deepEqual(
      arrived.filter((h) => h.method === 'GET').map((h) => h.path),
      Array.from({ length: 10 }, (_, i) => `/api/v1/namespaces/n${i}/configmaps`),
    );
    assert.equal(api.maxInFlight, 4, 'three reads and the write at most');
    assert.deepEqual(http.pendingReads(), { inFlight: 0, waiting: 0 });
    http.dispose();
  });

  it('refuses requests and watches after dispose instead of opening a new socket pool', async () => {
    const http = api.client({});
    assert.ok(await http.request({ method: 'GET', path: '/api/v1/namespaces/n0/configmaps', describe: list }));
    const before = api.requests;
    http.dispose();
    await assert.rejects(http.request({ method: 'GET', path: '/api/v1/namespaces/n0/configmaps', describe: list }), /connection to context '.*' was closed/);
    const ended = await new Promise<Error | undefined>((resolve) => http.stream('/api/v1/configmaps', { watch: 'true' }, { verb: 'watch', resource: 'configmaps' }, () => undefined, resolve));
    assert.match(String(ended?.message), /was closed/);
    assert.equal(api.requests, before, 'nothing reached the server after dispose');
  });

  it('a failed read gives its slot back', async () => {
    const bad = api.client({ maxReadsInFlight: 1 });
    // A server that is gone: the read fails, and the next one still gets a slot (and fails the same way).
    await api.close();
    await assert.rejects(bad.request({ method: 'GET', path: '/api/v1/configmaps', describe: list }), /cannot reach/);
    await assert.rejects(bad.request({ method: 'GET', path: '/api/v1/configmaps', describe: list }), /cannot reach/);
    assert.deepEqual(bad.pendingReads(), { inFlight: 0, waiting: 0 });
    bad.dispose();
    api = await new FakeApi().start(); // for afterEach
  });

  it('reads the credentials once for requests that start together, and keeps the agent when they are refreshed', async () => {
    let now = 0;
    const http = api.client({}, () => now);
    const kc = (http as unknown as { kc: { applyToHTTPSOptions: (o: unknown) => Promise<void> } }).kc;
    const real = kc.applyToHTTPSOptions.bind(kc);
    let reads = 0;
    kc.applyToHTTPSOptions = async (o) => {
      reads++;
      await real(o);
    };
    const agents = () => (http as unknown as { agents: Set<unknown> }).agents.size;
    await Promise.all(Array.from({ length: 20 }, () => http.request({ method: 'GET', path: '/api/v1/configmaps', describe: list })));
    assert.equal(reads, 1);
    assert.equal(agents(), 1);
    now += 6 * 60_000; // past the refresh interval: tokens from exec plugins and files expire
    await Promise.all(Array.from({ length: 5 }, () => http.request({ method: 'GET', path: '/api/v1/configmaps', describe: list })));
    assert.equal(reads, 2);
    assert.equal(agents(), 1, 'same TLS settings: same agent, same connections');
    http.dispose();
  });
});

describe('watch stream lines', () => {
  it('splits chunks into lines wherever the chunks break, multi-byte characters and CRLF included', () => {
    const text = '{"a":"é✓"}\r\n\n{"b":2}\n{"c":"last, no newline"}';
    const bytes = Buffer.from(text, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const got: string[] = [];
      const s = new LineSplitter();
      s.push(bytes.subarray(0, cut), (l) => got.push(l));
      s.push(bytes.subarray(cut), (l) => got.push(l));
      s.end((l) => got.push(l));
      assert.deepEqual(got, ['{"a":"é✓"}', '{"b":2}', '{"c":"last, no newline"}'], `cut at byte ${cut}`);
    }
  });
});
