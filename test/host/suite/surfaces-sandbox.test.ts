// Every editor command against the sandbox cluster running inside this extension host (started with
// "Start Sandbox Cluster") and the real engine, asserting the cluster's state through its Kubernetes
// API: start (multi-step), promote, promote fully, pause, resume, abort, retry, typed confirmation on
// a protected environment, Restricted Mode refusal, open dashboard, refresh, validate, stop sandbox.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { RolloutSnapshot } from '../../../src/engine/snapshot';
import type { SurfacesApi } from '../../../src/extension/surfaces';
import type { EnvNode, PipelineNode } from '../../../src/extension/tree/nodes';
import { targetKey, type TargetRef } from '../../../src/extension/model/targets';
import { scriptedPrompts, seedExamples, surfaces, waitFor, workspaceDir } from './surfaces-support';

const ROLLOUT = 180_000;

interface Run {
  phase: string;
  paused: boolean;
  image: string;
  stage: number;
}

describe('editor surfaces against the sandbox cluster', function () {
  this.timeout(600_000);
  let api: SurfacesApi;
  let dir: string;
  let url: string;
  const checkout = (): TargetRef => ({ file: path.join(dir, 'canary-replicas.deploy.yaml'), pipeline: 'checkout-sb', environment: 'staging' });
  const hello = (environment: string): TargetRef => ({ file: path.join(dir, 'simple.deploy.yaml'), pipeline: 'hello-sb', environment });
  const profile = (): TargetRef => ({ file: path.join(dir, 'blue-green.deploy.yaml'), pipeline: 'profile-sb', environment: 'staging' });

  async function get(apiPath: string): Promise<Record<string, unknown> | undefined> {
    const res = await fetch(`${url}${apiPath}`);
    if (res.status === 404) return undefined;
    if (!res.ok) throw new Error(`GET ${apiPath}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  }
  async function image(ns: string, name: string): Promise<string | undefined> {
    const d = (await get(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`)) as { spec: { template: { spec: { containers: { image: string }[] } } } } | undefined;
    return d?.spec.template.spec.containers[0].image;
  }
  async function replicas(ns: string, name: string): Promise<number | undefined> {
    const d = (await get(`/apis/apps/v1/namespaces/${ns}/deployments/${name}`)) as { spec: { replicas?: number } } | undefined;
    return d ? (d.spec.replicas ?? 1) : undefined;
  }
  /** The current run in the engine's record ConfigMap, read from the cluster. */
  async function run(ns: string, pipeline: string): Promise<Run | undefined> {
    const cm = (await get(`/api/v1/namespaces/${ns}/configmaps/kube-delivery-${pipeline}`)) as { data?: Record<string, string> } | undefined;
    const doc = cm?.data?.['record.json'] ? (JSON.parse(cm.data['record.json']) as { current?: Run }) : undefined;
    return doc?.current;
  }
  const snapshotOf = (ref: TargetRef): RolloutSnapshot | undefined => api.store.get(targetKey(ref));
  const until = async <T>(what: string, check: () => T | Promise<T>, ms = ROLLOUT) => {
    try {
      return await waitFor(check, ms, what);
    } catch (err) {
      // Say where the rollout stood, so a timeout explains itself.
      const s = snapshotOf(checkout());
      throw new Error(`${(err as Error).message}; checkout/staging: ${s?.phase} · ${s?.reason}${s?.error ? ` · error ${s.error.message}` : ''}`);
    }
  };

  before(async function () {
    this.timeout(180_000);
    api = await surfaces();
    api.setServiceFactory(undefined);
    dir = await seedExamples(api, 'sandbox-examples');
    // Other suites leave copies of the examples in this workspace, and the engine shares one session per
    // pipeline name and environment: give this suite's pipelines their own names (the apps, namespaces
    // and Deployments stay those of the examples).
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.deploy.yaml'))) {
      const file = path.join(dir, f);
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/(metadata:\s*\n\s+name:\s*)([a-z0-9-]+)/g, '$1$2-sb'));
    }
    // Blue-green with a manual switch: the run waits at its gate after the preview test, so the Testing
    // view can re-run that test for as long as it needs.
    const bg = path.join(dir, 'blue-green.deploy.yaml');
    fs.writeFileSync(bg, fs.readFileSync(bg, 'utf8').replace('autoPromote: true', 'autoPromote: false'));
    // A protected environment on the sandbox context, to exercise the typed confirmation for real.
    const simple = fs.readFileSync(path.join(dir, 'simple.deploy.yaml'), 'utf8');
    fs.writeFileSync(
      path.join(dir, 'simple.deploy.yaml'),
      simple.replace(/(environments:\n)/, '$1    - name: guarded\n      context: sandbox\n      namespace: hello-guarded\n      protected: true\n'),
    );
    await api.index.rescan();
    await until('guarded environment indexed', () => api.index.pipelines().some((p) => p.environments.some((e) => e.name === 'guarded')), 20_000);
    await vscode.commands.executeCommand('workbench.view.extension.kubeDelivery');
  });

  after(async () => {
    api.setPrompts(undefined);
    api.setTrusted(undefined);
    await vscode.commands.executeCommand('kubeDelivery.stopSandbox');
    fs.rmSync(dir, { recursive: true, force: true });
    await api.index.rescan();
  });

  it('Start Sandbox Cluster seeds the deploy files and shows their environments', async () => {
    const started = await vscode.commands.executeCommand<{ url: string }>('kubeDelivery.startSandbox', { speed: 30 });
    assert.ok(started?.url, 'the sandbox reports its URL');
    url = started.url;
    assert.ok(await get('/api/v1/namespaces/checkout-staging'), 'namespace seeded');
    assert.equal(await image('checkout-staging', 'checkout'), 'registry.example.com/checkout:1.7.0');
    assert.ok(await get('/api/v1/namespaces/hello-guarded'), 'the protected environment was seeded too');
    const roots = await until('environments', async () => {
      const r = (await api.tree.getChildren()) as EnvNode[];
      return r.some((e) => e.name === 'staging') ? r : undefined;
    }, 30_000);
    const staging = roots.find((r) => r.name === 'staging')!;
    const node = ((await api.tree.getChildren(staging)) as PipelineNode[]).find((n) => n.target.file === checkout().file && n.target.pipeline === 'checkout-sb');
    assert.ok(node);
    await until('live idle state from the engine', () => snapshotOf(checkout())?.phase === 'idle', 60_000);
    const item = api.tree.getTreeItem(node);
    assert.equal(item.description, snapshotOf(checkout())!.reason, 'the node shows the engine\'s merged status');
    assert.equal((item.iconPath as vscode.ThemeIcon).id, 'circle-large-outline');
    // The sandbox context exists for the extension only: the user's kubeconfig files are not touched.
    assert.equal(fs.existsSync(path.join(workspaceDir(), '.kube')), false);
  });

  it('Start Rollout (palette, three steps) creates the canary; Promote passes the manual gate; the run completes', async () => {
    const prompts = scriptedPrompts([
      { match: /Start Rollout \| Pipeline/, answer: 'checkout-sb' },
      { match: /Start Rollout \| Environment/, answer: 'staging' },
      { match: /Image to release/, answer: '<default>' },
    ]);
    api.setPrompts(prompts.prompts);
    const started = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.startRollout');
    assert.equal(started.ok, true, started.message);
    await until('canary Deployment in the cluster', async () => (await image('checkout-staging', 'checkout-canary')) === 'registry.example.com/checkout:1.8.0');
    const node = await api.tree.findPipelineNode(checkout());
    const seen = new Set<string>();
    await until('waiting for promotion at the manual stage', () => {
      seen.add(String(api.tree.getTreeItem(node!).description));
      const s = snapshotOf(checkout());
      return s?.phase === 'waiting' && s.gate?.kind === 'manual';
    });
    assert.ok(seen.size >= 2, `the tree description advanced: ${[...seen].join(' → ')}`);
    await until('badge', () => (api.treeView.badge?.value ?? 0) >= 1, 10_000);
    const promoted = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.promote', checkout());
    assert.equal(promoted.ok, true, promoted.message);
    await until('succeeded', async () => (await run('checkout-staging', 'checkout-sb'))?.phase === 'succeeded');
    assert.equal(await image('checkout-staging', 'checkout'), 'registry.example.com/checkout:1.8.0');
    await until('canary removed', async () => (await get('/apis/apps/v1/namespaces/checkout-staging/deployments/checkout-canary')) === undefined, 60_000);
  });

  it('Pause and Resume hold and release the run; Abort puts everything back on stable; Retry runs it again; Promote Fully finishes it', async () => {
    api.setPrompts(scriptedPrompts([{ match: /Image to release/, answer: 'registry.example.com/checkout:1.9.0' }]).prompts);
    const started = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.startRollout', checkout());
    assert.equal(started.ok, true, started.message);
    await until('pause allowed', () => snapshotOf(checkout())?.actions.pause.allowed, 60_000);
    const paused = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.pause', checkout());
    assert.equal(paused.ok, true, paused.message);
    await until('paused in the record', async () => (await run('checkout-staging', 'checkout-sb'))?.paused === true, 60_000);
    const resumed = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.resume', checkout());
    assert.equal(resumed.ok, true, resumed.message);
    await until('resumed in the record', async () => (await run('checkout-staging', 'checkout-sb'))?.paused === false, 60_000);
    await until('canary running', async () => ((await replicas('checkout-staging', 'checkout-canary')) ?? 0) > 0, 60_000);
    const aborted = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.abort', checkout());
    assert.equal(aborted.ok, true, aborted.message);
    await until('aborted in the record', async () => (await run('checkout-staging', 'checkout-sb'))?.phase === 'aborted', 60_000);
    assert.equal(await image('checkout-staging', 'checkout'), 'registry.example.com/checkout:1.8.0');
    await until('canary scaled down', async () => ((await replicas('checkout-staging', 'checkout-canary')) ?? 0) === 0, 60_000);
    await until('retry allowed', () => snapshotOf(checkout())?.actions.retry.allowed, 30_000);
    const retried = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.retry', checkout());
    assert.equal(retried.ok, true, retried.message);
    await until('canary back', async () => ((await replicas('checkout-staging', 'checkout-canary')) ?? 0) > 0, 60_000);
    await until('promote fully allowed', () => snapshotOf(checkout())?.actions.promoteFull.allowed, 60_000);
    const full = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.promoteFull', checkout());
    assert.equal(full.ok, true, full.message);
    await until('succeeded after promote fully', async () => (await run('checkout-staging', 'checkout-sb'))?.phase === 'succeeded');
    assert.equal(await image('checkout-staging', 'checkout'), 'registry.example.com/checkout:1.9.0');
  });

  it('asks for the typed name of a protected environment; a wrong name writes nothing', async () => {
    const before = await image('hello-guarded', 'hello');
    api.setPrompts(scriptedPrompts([
      { match: /Image to release/, answer: '<default>' },
      { match: /protected environment/, answer: 'guard' },
    ]).prompts);
    const refused = await vscode.commands.executeCommand<{ ok: boolean; code: string }>('kubeDelivery.startRollout', hello('guarded'));
    assert.equal(refused.code, 'cancelled');
    assert.equal(await run('hello-guarded', 'hello-sb'), undefined, 'no run recorded');
    assert.equal(await image('hello-guarded', 'hello'), before);
    api.setPrompts(scriptedPrompts([
      { match: /Image to release/, answer: '<default>' },
      { match: /protected environment/, answer: 'guarded' },
    ]).prompts);
    const ok = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.startRollout', hello('guarded'));
    assert.equal(ok.ok, true, ok.message);
    await until('hello rolled out', async () => (await image('hello-guarded', 'hello')) === 'registry.example.com/hello:2.1.0');
  });

  it('refuses every write in Restricted Mode while the tree keeps reading the cluster', async () => {
    api.setTrusted(false);
    try {
      const before = await run('checkout-staging', 'checkout-sb');
      api.setPrompts(scriptedPrompts([{ match: /Image to release/, answer: '<default>' }]).prompts);
      for (const [cmd, arg] of [['kubeDelivery.startRollout', checkout()], ['kubeDelivery.promote', checkout()], ['kubeDelivery.abort', checkout()], ['kubeDelivery.retry', checkout()]] as const) {
        const out = await vscode.commands.executeCommand<{ code: string }>(cmd, arg);
        assert.equal(out.code, 'untrusted', cmd);
      }
      assert.deepEqual(await run('checkout-staging', 'checkout-sb'), before, 'the record is unchanged');
      // Reading still works: the (re-created, observe-only) engine streams the cluster's state.
      await until('a snapshot after the trust change', () => snapshotOf(checkout())?.phase === 'succeeded', 60_000);
    } finally {
      api.setTrusted(undefined);
    }
  });

  it('re-running a test item in the Testing view creates a new Job and reports its verdict', async () => {
    api.setPrompts(scriptedPrompts([{ match: /Image to release/, answer: '<default>' }]).prompts);
    const started = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.startRollout', profile());
    assert.equal(started.ok, true, started.message);
    const atGate = await until('profile at its manual switch', () => {
      const s = snapshotOf(profile());
      return s?.phase === 'waiting' && s.gate?.kind === 'manual' ? s : undefined;
    });
    const first = atGate.tests.find((t) => t.name === 'preview-smoke');
    assert.equal(first?.status, 'passed');
    const key = targetKey(profile());
    const item = await until('the test item', () => api.tests.findItem(key, `test/${first!.stage}/preview-smoke`), 30_000);
    await until('its first result', () => api.tests.outcomes.get(item.id)?.outcome === 'passed', 30_000);

    const cts = new vscode.CancellationTokenSource();
    // The run profile's handler, as the Testing view calls it: it returns with the new attempt's verdict.
    await api.tests.profile.runHandler(new vscode.TestRunRequest([item], undefined, api.tests.profile), cts.token);
    const outcome = api.tests.outcomes.get(item.id);
    assert.equal(outcome?.run, 'Re-run rollout tests');
    assert.equal(outcome?.outcome, 'passed', outcome?.message);
    assert.equal(typeof outcome?.durationMs, 'number');
    assert.equal(item.description, 'attempt 2');

    // The cluster has a second Job for the test, labelled with the run, beside the first one.
    const second = snapshotOf(profile())!.tests.find((t) => t.name === 'preview-smoke' && t.attempt === 2);
    assert.ok(second?.job && second.job !== first!.job, `a new Job name: ${second?.job}`);
    const job = (await get(`/apis/batch/v1/namespaces/profile-staging/jobs/${second.job}`)) as { metadata: { labels?: Record<string, string> }; status?: { succeeded?: number } } | undefined;
    assert.ok(job, `Job ${second.job} exists`);
    assert.equal(job.metadata.labels?.['kube-delivery.dev/test'], 'preview-smoke');
    assert.equal(job.metadata.labels?.['kube-delivery.dev/run'], atGate.runId);
    assert.ok(await get(`/apis/batch/v1/namespaces/profile-staging/jobs/${first!.job}`), 'the first attempt\'s Job is still there');

    // The run still waits for its human; promote it so the suite leaves nothing running.
    assert.equal(snapshotOf(profile())?.gate?.kind, 'manual');
    const promoted = await vscode.commands.executeCommand<{ ok: boolean; message?: string }>('kubeDelivery.promote', profile());
    assert.equal(promoted.ok, true, promoted.message);
    await until('profile switched', async () => (await run('profile-staging', 'profile-sb'))?.phase === 'succeeded');
  });

  it('Open Dashboard, Refresh and Validate work from the tree and the palette', async () => {
    await vscode.commands.executeCommand('kubeDelivery.openDashboardFor', checkout());
    const panels = await until('dashboard panel', async () => {
      const p = await vscode.commands.executeCommand<unknown[]>('kubeDelivery._dashboardPanels');
      return Array.isArray(p) && p.length ? p : undefined;
    }, 30_000);
    assert.match(JSON.stringify(panels), /checkout/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('kubeDelivery.refresh');
    await until('snapshot again after refresh', () => snapshotOf(checkout())?.phase === 'succeeded', 60_000);
    const ok = await vscode.commands.executeCommand<{ files: number; errors: number }>('kubeDelivery.validateWorkspace');
    assert.ok(ok.files >= 5, `files: ${ok.files}`);
    // A deploy file with one mistake (a stage's weights do not sum to 100), not open in an editor.
    const broken = path.join(dir, 'broken-sb.deploy.yaml');
    fs.writeFileSync(broken, fs.readFileSync(checkout().file, 'utf8').replace('{ canary: 10, baseline: 10, current: 80 }', '{ canary: 10, baseline: 10, current: 70 }'));
    const v = await vscode.commands.executeCommand<{ files: number; errors: number }>('kubeDelivery.validateWorkspace');
    assert.equal(v.files, ok.files + 1);
    assert.equal(v.errors, ok.errors + 1);
    const problems = vscode.languages.getDiagnostics(vscode.Uri.file(broken));
    assert.ok(problems.some((d) => /100/.test(d.message)), problems.map((d) => d.message).join('\n'));
    fs.rmSync(broken);
  });

  it('Stop Sandbox Cluster removes its context: the view falls back to the welcome content', async () => {
    assert.equal(await vscode.commands.executeCommand('kubeDelivery.stopSandbox'), true);
    await until('no environments without a cluster', async () => ((await api.tree.getChildren()) as EnvNode[]).length === 0, 30_000);
    await assert.rejects(fetch(`${url}/version`));
  });
});
