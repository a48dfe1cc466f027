import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startSandbox, ManualClock, type Sandbox } from '../../../../src/sandbox/index';
import type { KubeObject } from '../../../../src/sandbox/api/store';
import { spawn } from 'node:child_process';
import { parseSandboxArgs } from '../../../../src/cli/commands/sandbox';
import { runCli } from '../../../../src/cli/main';
import { deployment, service, podsOf } from './helpers';

const obj = (kind: string, apiVersion: string, ns: string, name: string, spec: unknown): KubeObject => ({ apiVersion, kind, metadata: { name, namespace: ns }, spec });

async function promQuery(sb: Sandbox, query: string, method: 'GET' | 'POST' = 'GET'): Promise<{ status: number; body: { status: string; data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] }; errorType?: string; error?: string } }> {
  const url = `${sb.prometheusUrl}/api/v1/query`;
  const res =
    method === 'GET'
      ? await fetch(`${url}?query=${encodeURIComponent(query)}`)
      : await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query }).toString() });
  return { status: res.status, body: await res.json() };
}

describe('sandbox: startSandbox, metrics through the service proxy, faults, CLI', function () {
  this.timeout(60_000);

  describe('the 90/10 VirtualService metrics test', () => {
    let sb: Sandbox;
    let clock: ManualClock;
    before(async () => {
      clock = new ManualClock();
      sb = await startSandbox({ clock, trafficRps: 50, randomSeed: 'metrics' });
      const s = sb.store;
      s.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pay' } });
      s.create('deployments.apps', deployment({ ns: 'pay', name: 'payments', replicas: 3, labels: { app: 'payments', version: 'v1' }, image: 'registry.example.com/payments:3.1.0' }));
      s.create('deployments.apps', deployment({ ns: 'pay', name: 'payments-canary', replicas: 1, labels: { app: 'payments', version: 'v2' }, image: 'registry.example.com/payments:3.2.0-errors' }));
      s.create('services', service('pay', 'payments', { app: 'payments' }));
      s.create('destinationrules.networking.istio.io', obj('DestinationRule', 'networking.istio.io/v1beta1', 'pay', 'payments', { host: 'payments', subsets: [{ name: 'stable', labels: { version: 'v1' } }, { name: 'canary', labels: { version: 'v2' } }] }));
      s.create('virtualservices.networking.istio.io', obj('VirtualService', 'networking.istio.io/v1beta1', 'pay', 'payments', { hosts: ['payments'], http: [{ route: [{ destination: { host: 'payments', subset: 'stable' }, weight: 90 }, { destination: { host: 'payments', subset: 'canary' }, weight: 10 }] }] }));
      const ready = () => podsOf(s, 'pay', { app: 'payments' }).filter((p) => (p.status as { conditions?: { type: string; status: string }[] })?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === 4;
      assert.ok(await clock.advanceUntil(ready, 60_000));
      await clock.advance(5 * 60_000);
    });
    after(() => sb.close());

    it('success rate per version is within the configured error rates (12 % for -errors, 0.01 % otherwise)', async () => {
      const q = 'sum by (version) (rate(http_requests_total{namespace="pay",code!~"5.."}[2m])) / sum by (version) (rate(http_requests_total{namespace="pay"}[2m]))';
      const { status, body } = await promQuery(sb, q);
      assert.equal(status, 200);
      assert.equal(body.status, 'success');
      assert.equal(body.data!.resultType, 'vector');
      const rate = Object.fromEntries(body.data!.result.map((r) => [r.metric.version, Number(r.value[1])]));
      assert.deepEqual(Object.keys(rate).sort(), ['v1', 'v2']);
      // 5 rps to the canary for 2 min = 600 requests: 12 % ± 4.5 standard deviations (1.3 %).
      assert.ok(rate.v2 > 0.82 && rate.v2 < 0.94, `canary success rate ${rate.v2}`);
      assert.ok(rate.v1 > 0.995, `stable success rate ${rate.v1}`);
    });

    it('traffic share follows the weights and latency quantiles are sane', async () => {
      const share = await promQuery(sb, 'sum(rate(http_requests_total{namespace="pay",version="v2"}[2m])) / sum(rate(http_requests_total{namespace="pay"}[2m]))', 'POST');
      const v = Number(share.body.data!.result[0].value[1]);
      assert.ok(Math.abs(v - 0.1) < 0.03, `canary share ${v}`);
      const p99 = await promQuery(sb, 'histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{namespace="pay",deployment="payments"}[2m])))');
      const sec = Number(p99.body.data!.result[0].value[1]);
      assert.ok(sec > 0.05 && sec < 0.5, `p99 ${sec}s`);
      // Pod labels are Prometheus labels too (sanitised), so both spellings select the stable pods.
      const byLabel = await promQuery(sb, 'count(count by (pod) (http_requests_total{namespace="pay",app="payments",deployment="payments"}))');
      assert.equal(byLabel.body.data!.result[0].value[1], '3');
    });

    it('answers errors in Prometheus shape and no data as an empty vector', async () => {
      const bad = await promQuery(sb, 'sum(rate(http_requests_total[5m:1m]))');
      assert.equal(bad.status, 400);
      assert.deepEqual(Object.keys(bad.body).sort(), ['error', 'errorType', 'status']);
      assert.equal(bad.body.status, 'error');
      assert.equal(bad.body.errorType, 'bad_data');
      const empty = await promQuery(sb, 'sum(rate(http_requests_total{namespace="nowhere"}[1m]))');
      assert.deepEqual(empty.body, { status: 'success', data: { resultType: 'vector', result: [] } });
      const range = await fetch(`${sb.prometheusUrl}/api/v1/query_range?query=${encodeURIComponent('sum(rate(http_requests_total{namespace="pay"}[1m]))')}&start=${(clock.now() - 60_000) / 1000}&end=${clock.now() / 1000}&step=15s`);
      const rb = (await range.json()) as { data: { resultType: string; result: { values: unknown[] }[] } };
      assert.equal(rb.data.resultType, 'matrix');
      assert.equal(rb.data.result[0].values.length, 5);
      const other = await fetch(`${sb.url}/api/v1/namespaces/monitoring/services/prometheus:9090/proxy/nope`);
      assert.equal(other.status, 404);
    });

    it('admin endpoint: faults reach the API server, bad input is refused, controllers pause', async () => {
      const put = (p: string, body: unknown, method = 'PUT') => fetch(`${sb.url}/admin${p}`, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      let r = await put('/faults', { errorRate: 1, errorCodes: [503], verbs: ['list'] });
      assert.equal(r.status, 200);
      const list = await fetch(`${sb.url}/apis/apps/v1/namespaces/pay/deployments`);
      assert.equal(list.status, 503);
      r = await put('/faults', { errorRate: 2 });
      assert.equal(r.status, 400);
      assert.match(((await r.json()) as { message: string }).message, /errorRate: expected a number between 0 and 1/);
      // A 409 storm: every update is refused as a conflict, nothing is written.
      r = await put('/faults', { errorRate: 0, conflictRate: 1, verbs: [] });
      assert.equal(r.status, 200);
      const rv = sb.store.get('services', 'pay', 'payments').metadata.resourceVersion;
      const patch = await fetch(`${sb.url}/api/v1/namespaces/pay/services/payments`, { method: 'PATCH', headers: { 'Content-Type': 'application/merge-patch+json' }, body: JSON.stringify({ metadata: { labels: { x: 'y' } } }) });
      assert.equal(patch.status, 409);
      const storm = (await patch.json()) as { reason: string; message: string; details: { name: string; kind: string } };
      assert.equal(storm.reason, 'Conflict');
      assert.equal(storm.message, 'Operation cannot be fulfilled on services "payments": the object has been modified; please apply your changes to the latest version and try again', 'the same Status a stale write gets');
      assert.deepEqual(storm.details, { name: 'payments', kind: 'services' });
      assert.equal(sb.store.get('services', 'pay', 'payments').metadata.resourceVersion, rv);
      r = await fetch(`${sb.url}/admin/faults`, { method: 'DELETE' });
      assert.equal(((await r.json()) as { errorRate: number }).errorRate, 0);
      assert.equal((await fetch(`${sb.url}/apis/apps/v1/namespaces/pay/deployments`)).status, 200);

      // A paused controller: nothing happens to a new Deployment until resumed.
      await put('/faults', { controllersPaused: true });
      sb.store.create('deployments.apps', deployment({ ns: 'pay', name: 'later', replicas: 1 }));
      await clock.advance(30_000);
      assert.equal(sb.store.list('replicasets.apps', 'pay').items.filter((x) => x.metadata.name!.startsWith('later-')).length, 0);
      await put('/faults', { controllersPaused: false });
      await clock.advance(30_000);
      assert.equal(sb.store.list('replicasets.apps', 'pay').items.filter((x) => x.metadata.name!.startsWith('later-')).length, 1);

      // Behaviour overrides and the manual clock.
      r = await put('/behaviour', { overrides: [{ marker: '-flaky', set: { errorRate: 0.5 } }] });
      assert.equal(r.status, 200);
      assert.equal(sb.admin.behaviour.forImage('x:1-flaky').errorRate, 0.5);
      r = await put('/behaviour', { overrides: [{ marker: '-flaky', set: { errorRate: 'lots' } }] });
      assert.equal(r.status, 400);
      const before = clock.now();
      r = await put('/clock', { advanceMs: 1000 }, 'POST');
      assert.equal(((await r.json()) as { now: number }).now, before + 1000);
      assert.equal((await fetch(`${sb.url}/admin/nope`)).status, 404);
    });

    it('the in-process handle sets the same faults', async () => {
      sb.admin.setFaults({ errorRate: 1, errorCodes: [429], resources: ['pods'] });
      assert.equal((await fetch(`${sb.url}/api/v1/namespaces/pay/pods`)).status, 429);
      assert.equal((await fetch(`${sb.url}/api/v1/namespaces/pay/services`)).status, 200);
      assert.throws(() => sb.admin.setFaults({ conflictRate: -1 }), /conflictRate/);
      // Resources by short name, plural or kind, as kubectl names them; a name that matches nothing and
      // an unknown verb are refused rather than leaving a fault that never fires.
      sb.admin.setFaults({ errorRate: 1, errorCodes: [500], resources: ['deploy', 'Service'] });
      assert.deepEqual(sb.admin.faults.resources, ['deployments.apps', 'services']);
      assert.equal((await fetch(`${sb.url}/apis/apps/v1/namespaces/pay/deployments`)).status, 500);
      assert.equal((await fetch(`${sb.url}/api/v1/namespaces/pay/services`)).status, 500);
      assert.equal((await fetch(`${sb.url}/api/v1/namespaces/pay/pods`)).status, 200);
      assert.throws(() => sb.admin.setFaults({ resources: ['deploymentz'] }), /resources: unknown resource 'deploymentz'/);
      assert.throws(() => sb.admin.setFaults({ verbs: ['lists'] }), /verbs: unknown 'lists'/);
      assert.deepEqual(sb.admin.faults.resources, ['deployments.apps', 'services'], 'nothing applied from a refused change');
      const refused = await fetch(`${sb.url}/admin/faults`, { method: 'PUT', body: JSON.stringify({ resources: ['deploymentz'] }) });
      assert.equal(refused.status, 400);
      sb.admin.clearFaults();
      assert.equal((await fetch(`${sb.url}/api/v1/namespaces/pay/pods`)).status, 200);
    });
  });

  it('seeds namespaces and apps from deploy files for the sandbox context, and writes a kubeconfig', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kd-sb-'));
    try {
      const kc = path.join(dir, 'nested', 'sandbox.kubeconfig');
      const sb = await startSandbox({ clock: new ManualClock(), trafficRps: 0, seed: path.resolve('examples'), kubeconfigPath: kc, contextName: 'sandbox' });
      try {
        assert.deepEqual(sb.seedReport!.problems, []);
        for (const ns of ['hello-staging', 'checkout-staging', 'payments-staging', 'search-staging', 'profile-staging']) assert.ok(sb.store.tryGet('namespaces', undefined, ns), ns);
        assert.equal(sb.store.tryGet('namespaces', undefined, 'payments'), undefined, 'production (context prod-eu) is not seeded');
        assert.ok(sb.store.tryGet('virtualservices.networking.istio.io', 'payments-staging', 'payments'));
        assert.ok(sb.store.tryGet('services', 'monitoring', 'prometheus'));
        const text = await readFile(kc, 'utf8');
        assert.equal(text, sb.kubeconfig);
        assert.match(text, /current-context: sandbox/);
        assert.match(text, /insecure-skip-tls-verify: true/);
        assert.ok(text.includes(sb.url));
      } finally {
        await sb.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('CLI: parses options, starts, prints kubeconfig path and URL, stops on interrupt', async () => {
    assert.throws(() => parseSandboxArgs(['--port', 'x']), /--port: expected a port number/);
    assert.throws(() => parseSandboxArgs(['--speed', '0']), /--speed: expected a positive number/);
    assert.throws(() => parseSandboxArgs(['--bogus']), /unknown option/);
    assert.deepEqual(parseSandboxArgs(['--port=8080', '--context', 'dev', '--speed', '20']), { port: 8080, host: '127.0.0.1', context: 'dev', speed: 20, noSeed: false, tls: false, help: false });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kd-cli-'));
    try {
      let out = '';
      let err = '';
      let interrupt!: () => void;
      const interrupted = new Promise<void>((r) => (interrupt = r));
      let exit!: Promise<number>;
      const printed = new Promise<string>((resolve) => {
        const check = () => {
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m && out.includes('Ctrl-C')) resolve(m[1]);
        };
        const io = {
          stdout: (t: string) => {
            out += t;
            check();
          },
          stderr: (t: string) => void (err += t),
          isTTY: false,
          cwd: path.resolve('.'),
          env: { HOME: dir },
          interrupted,
        };
        exit = runCli(['sandbox', '--port', '0', '--context', 'sandbox', '--seed', 'examples', '--rps', '0', '--speed', '20'], io);
      });
      const url = await printed;
      const version = (await (await fetch(`${url}/version`)).json()) as { major: string };
      assert.equal(version.major, '1');
      const ns = (await (await fetch(`${url}/api/v1/namespaces/hello-staging`)).json()) as { metadata: { name: string } };
      assert.equal(ns.metadata.name, 'hello-staging');
      const kcPath = path.join(dir, '.kube-delivery', 'sandbox.kubeconfig');
      assert.ok(out.includes(kcPath), out);
      assert.match(await readFile(kcPath, 'utf8'), /current-context: sandbox/);
      await assert.rejects(readFile(path.join(dir, '.kube', 'config')), 'merged into no other kubeconfig');
      const clock = (await (await fetch(`${url}/admin/clock`)).json()) as { speed: number; manual: boolean };
      assert.deepEqual(clock, { ...clock, speed: 20, manual: false }, '--speed reaches the sandbox clock');
      assert.match(out, /Clock speed: 20x/);
      interrupt();
      assert.equal(await exit, 0);
      assert.match(out, /Sandbox stopped/);
      assert.equal(err, '');
      await assert.rejects(fetch(`${url}/version`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  for (const signal of ['SIGINT', 'SIGTERM'] as const) it(`CLI process: kube-delivery sandbox serves until ${signal}, then exits 0, even with a watch open`, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'kd-cli-proc-'));
    const kc = path.join(dir, 'kc.yaml');
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'sandbox', '--port', '0', '--no-seed', '--kubeconfig', kc], { cwd: path.resolve('.'), stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      let err = '';
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m && out.includes('Ctrl-C')) resolve(m[1]);
        });
        void exited.then((code) => reject(new Error(`exited early (${code}): ${out}${err}`)));
      });
      assert.ok(out.includes(kc));
      const ns = (await (await fetch(`${url}/api/v1/namespaces/monitoring`)).json()) as { metadata: { name: string } };
      assert.equal(ns.metadata.name, 'monitoring');
      // A client watching (kubectl get -w) must not keep the server from stopping.
      const watch = await fetch(`${url}/api/v1/namespaces?watch=true`);
      assert.equal(watch.status, 200);
      const reader = watch.body!.getReader();
      await reader.read();
      child.kill(signal);
      assert.equal(await exited, 0, err);
      assert.match(out, /Sandbox stopped/);
      await reader.cancel().catch(() => undefined);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
