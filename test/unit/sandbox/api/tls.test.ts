// The sandbox with --tls, as a real cluster: HTTPS with a certificate the kubeconfig trusts, ALPN choosing
// HTTP/2 for Go clients (kubectl) and Node's http2, HTTP/1.1 for client-node and the extension's own
// client; the engine still finds the sandbox's clock on a loopback https URL.
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import { X509Certificate } from 'node:crypto';
import YAML from 'yaml';
import { startSandbox, type Sandbox } from '../../../../src/sandbox';
import { connect, mayBeSandbox } from '../../../../src/kube/ops';
import { parseSandboxArgs } from '../../../../src/cli/commands/sandbox';
import { kubectlFor, type Kubectl } from './kubectl';
import { waitFor } from './harness';

function get(url: string, ca?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url, { ca, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('sandbox with TLS', function () {
  this.timeout(60_000);
  let sb: Sandbox;
  let kubectl: Kubectl;
  before(async () => {
    sb = await startSandbox({ tls: true, trafficRps: 0 });
    kubectl = kubectlFor(sb.kubeconfig);
  });
  after(async () => {
    kubectl?.cleanup();
    await sb?.close();
  });

  it('serves https with a certificate for the loopback names, which the kubeconfig trusts', async () => {
    assert.match(sb.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const cert = new X509Certificate(sb.ca!);
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.match(cert.subjectAltName ?? '', /DNS:localhost/);
    assert.ok(cert.checkIssued(cert), 'self-signed');
    const cluster = (YAML.parse(sb.kubeconfig) as { clusters: { cluster: Record<string, unknown> }[] }).clusters[0].cluster;
    assert.equal(cluster['insecure-skip-tls-verify'], undefined);
    assert.equal(Buffer.from(String(cluster['certificate-authority-data']), 'base64').toString(), sb.ca);
    assert.equal((await get(`${sb.url}/version`, sb.ca)).status, 200);
    // A client that does not trust the certificate is refused by its own TLS check.
    await assert.rejects(get(`${sb.url}/version`), (e: NodeJS.ErrnoException) => /SELF_SIGNED|UNABLE_TO_VERIFY/.test(String(e.code)));
  });

  it('kubectl speaks HTTP/2 to it (ALPN), creates, reads and watches', async () => {
    const before = sb.server.requestsByHttpVersion()['2.0'] ?? 0;
    await kubectl.ok(['create', 'namespace', 'tls-demo']);
    await kubectl.ok(['-n', 'tls-demo', 'create', 'configmap', 'settings', '--from-literal=mode=tls']);
    const cm = JSON.parse(await kubectl.ok(['-n', 'tls-demo', 'get', 'configmap', 'settings', '-o', 'json'])) as { data: Record<string, string> };
    assert.deepEqual(cm.data, { mode: 'tls' });
    // A watch over the same HTTP/2 transport sees a change made afterwards.
    const w = kubectl.spawn(['-n', 'tls-demo', 'get', 'configmaps', '--watch', '-o', 'name']);
    let out = '';
    w.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    try {
      await waitFor('the watch lists the configmap', () => out.includes('configmap/settings'), 30_000);
      await waitFor('the watch is registered', () => sb.server.openWatches() > 0, 30_000);
      sb.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later', namespace: 'tls-demo' } });
      await waitFor('the watch shows the new configmap', () => out.includes('configmap/later'), 30_000);
    } finally {
      w.kill();
    }
    const h2 = (sb.server.requestsByHttpVersion()['2.0'] ?? 0) - before;
    assert.ok(h2 >= 4, `kubectl's requests over HTTP/2: ${h2} (by version: ${JSON.stringify(sb.server.requestsByHttpVersion())})`);
  });

  it("the extension's own client (HTTP/1.1 over TLS) lists and watches, and finds the sandbox clock on loopback https", async () => {
    const c = connect({ yaml: sb.kubeconfig });
    assert.ok(c.ok, !c.ok ? c.message : '');
    const ops = c.ops;
    try {
      const before = sb.server.requestsByHttpVersion()['1.1'] ?? 0;
      const list = await ops.list('v1', 'Namespace', undefined);
      assert.ok(list.some((n) => n.metadata.name === 'default'));
      const seen: string[] = [];
      const handle = ops.watch('v1', 'ConfigMap', 'default', undefined, (e) => seen.push(`${e.type}:${e.object.metadata.name}`));
      try {
        await waitFor('the watch is registered', () => sb.server.openWatches() > 0, 20_000);
        sb.store.create('configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'from-store', namespace: 'default' } });
        await waitFor('the watch event', () => seen.includes('ADDED:from-store'), 20_000);
      } finally {
        handle.dispose();
      }
      assert.ok((sb.server.requestsByHttpVersion()['1.1'] ?? 0) > before);
      const clock = await ops.sandboxClock();
      assert.ok(clock && Math.abs(clock.now - sb.clock.now()) < 60_000, JSON.stringify(clock));
    } finally {
      ops.dispose();
    }
  });

  it('Node http2 negotiates h2 by ALPN and watches on it', async () => {
    const session = http2.connect(sb.url, { ca: sb.ca });
    try {
      await new Promise<void>((resolve, reject) => {
        session.once('remoteSettings', () => resolve());
        session.once('error', reject);
      });
      assert.equal(session.alpnProtocol, 'h2');
      // As kube-apiserver (Go's crypto/tls) chooses, whatever order Node's client offers.
      assert.equal((session.socket as unknown as { getCipher(): { name: string } }).getCipher().name, 'TLS_AES_128_GCM_SHA256');
      const stream = session.request({ ':path': '/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0' });
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (text += d));
      await waitFor('the initial ADDED events', () => text.includes('"name":"from-store"'), 20_000);
      stream.close();
    } finally {
      session.destroy();
    }
  });

  it('only plain http or loopback https is probed for a sandbox clock', () => {
    assert.equal(mayBeSandbox('http://10.0.0.5:8080'), true);
    assert.equal(mayBeSandbox('https://127.0.0.1:6443'), true);
    assert.equal(mayBeSandbox('https://[::1]:6443'), true);
    assert.equal(mayBeSandbox('https://localhost:6443'), true);
    assert.equal(mayBeSandbox('https://prod.example.com'), false);
    assert.equal(mayBeSandbox('https://10.0.0.5:6443'), false);
    assert.equal(mayBeSandbox('not a url'), false);
  });

  it('the CLI takes --tls', () => {
    assert.equal(parseSandboxArgs(['--tls']).tls, true);
    assert.equal(parseSandboxArgs([]).tls, false);
  });
});
