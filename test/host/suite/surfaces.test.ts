// Editor surfaces inside a real VS Code, with an in-memory engine: the tree, commands (typed
// confirmation, Restricted Mode refusal, multi-step start), CodeLens, badge, gate diagnostics and the
// Testing view. The same surfaces against the sandbox cluster and the real engine are in
// surfaces-sandbox.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { SurfacesApi } from '../../../src/extension/surfaces';
import type { Node, PipelineNode, EnvNode } from '../../../src/extension/tree/nodes';
import { targetKey } from '../../../src/extension/model/targets';
import { allow, clearKubeconfigSetting, FakeEngine, scriptedPrompts, seedExamples, surfaces, useKubeconfig, waitFor } from './surfaces-support';

describe('editor surfaces (in-memory engine)', function () {
  this.timeout(60_000);
  let api: SurfacesApi;
  let engine: FakeEngine;
  let dir: string;
  let kubeconfigFile: string;
  const checkoutFile = () => path.join(dir, 'canary-replicas.deploy.yaml');
  const ref = (environment: string) => ({ file: checkoutFile(), pipeline: 'checkout', environment });

  before(async () => {
    api = await surfaces();
    engine = new FakeEngine();
    api.setServiceFactory(() => engine);
    dir = await seedExamples(api, 'fake-examples');
    kubeconfigFile = await useKubeconfig([
      { name: 'sandbox', server: 'https://127.0.0.1:1' },
      { name: 'prod-eu', server: 'https://127.0.0.1:2' },
    ]);
    await vscode.commands.executeCommand('workbench.view.extension.kubeDelivery');
    await waitFor(() => api.treeView.visible, 20_000, 'Environments view visible');
  });

  after(async () => {
    api.setPrompts(undefined);
    api.setTrusted(undefined);
    api.setServiceFactory(undefined);
    await clearKubeconfigSetting();
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(dir, { recursive: true, force: true });
    await api.index.rescan();
  });

  async function pipelineNode(environment: string, pipeline = 'checkout'): Promise<PipelineNode> {
    return waitFor(async () => {
      const roots = (await api.tree.getChildren()) as EnvNode[];
      const env = roots.find((r) => r.name === environment);
      if (!env) return undefined;
      const kids = (await api.tree.getChildren(env)) as PipelineNode[];
      return kids.find((k) => k.target.pipeline === pipeline && k.target.file === checkoutFile());
    }, 20_000, `${pipeline} under ${environment}`);
  }

  it('groups every example pipeline under its environments, with place and protection', async () => {
    const roots = (await waitFor(async () => {
      const r = (await api.tree.getChildren()) as EnvNode[];
      return r.length ? r : undefined;
    }, 20_000, 'environments')) as EnvNode[];
    const names = roots.map((r) => r.name);
    assert.ok(names.includes('staging') && names.includes('production'), names.join(','));
    const staging = roots.find((r) => r.name === 'staging')!;
    const pipelines = ((await api.tree.getChildren(staging)) as PipelineNode[]).filter((p) => p.target.file.startsWith(dir)).map((p) => p.target.pipeline);
    assert.ok(pipelines.includes('checkout'), pipelines.join(','));
    // The row is drawn from the kubeconfig the tree last read: wait until it knows this suite's contexts.
    const prod = await waitFor(() => {
      const item = api.tree.getTreeItem(roots.find((r) => r.name === 'production')!);
      return /not in kubeconfig/.test(String(item.description)) ? undefined : item;
    }, 20_000, 'production drawn with the contexts of this suite\'s kubeconfig');
    assert.match(String(prod.contextValue), /\bprotected\b/);
    assert.equal((prod.iconPath as vscode.ThemeIcon).id, 'lock', String(prod.description));
  });

  it('updates the pipeline node live from the watch, with per-state context keys', async () => {
    const node = await pipelineNode('staging');
    await waitFor(() => engine.watching(ref('staging')) > 0, 10_000, 'watch on checkout@staging');
    engine.emit(ref('staging'), {
      phase: 'waiting',
      runId: 'r1',
      reason: 'stage 2/2 · canary 50% · waiting for promotion',
      gate: { kind: 'manual', since: new Date().toISOString(), message: 'waiting for promotion' },
      actions: allow('promote', 'promoteFull', 'abort', 'pause'),
    });
    const item = await waitFor(() => {
      const i = api.tree.getTreeItem(node);
      return i.description === 'stage 2/2 · canary 50% · waiting for promotion' ? i : undefined;
    }, 5_000, 'description updated');
    assert.match(String(item.contextValue), /\bcanPromote\b/);
    assert.match(String(item.contextValue), /\bcanAbort\b/);
    assert.doesNotMatch(String(item.contextValue), /\bcanStart\b/);
    const details = (await api.tree.getChildren(node)) as Node[];
    assert.ok(details.some((d) => d.kind === 'detail' && d.desc.kind === 'gate'));
    assert.equal(api.tree.getParent(details[0]), node);
    assert.equal(api.tree.getParent(node), node.parent);
  });

  it('badges the view with the rollouts waiting for a human', async () => {
    // Through the engine's light attention stream (the record only), as against a cluster.
    await waitFor(() => engine.followsAttention(ref('staging')), 10_000, 'attention stream on checkout@staging');
    await waitFor(() => api.treeView.badge?.value === 1, 5_000, 'badge 1');
    engine.emit(ref('staging'), { phase: 'progressing', gate: undefined, reason: 'stage 2/2 · canary 50%' });
    await waitFor(() => !api.treeView.badge, 5_000, 'badge cleared');
    assert.equal(api.summary.summary.active.length >= 1, true);
  });

  it('refuses every write in Restricted Mode and still reads', async () => {
    // Restricted Mode ignores the kubeconfig setting; KUBECONFIG still applies (this test runs in the
    // extension host's process, so it can set it).
    const savedEnv = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kubeconfigFile;
    api.setTrusted(false);
    try {
      const before = engine.acts.length;
      for (const cmd of ['kubeDelivery.promote', 'kubeDelivery.abort', 'kubeDelivery.pause', 'kubeDelivery.resume', 'kubeDelivery.retry', 'kubeDelivery.promoteFull']) {
        const out = await vscode.commands.executeCommand<{ ok: boolean; code: string }>(cmd, ref('staging'));
        assert.equal(out.code, 'untrusted', cmd);
      }
      api.setPrompts(scriptedPrompts([{ match: /Image/, answer: '<default>' }]).prompts);
      const start = await vscode.commands.executeCommand<{ code: string }>('kubeDelivery.startRollout', ref('staging'));
      assert.equal(start.code, 'untrusted');
      assert.equal(engine.acts.length, before, 'nothing reached the engine');
      const node = await pipelineNode('staging');
      assert.ok(((await api.tree.getChildren(node)) as Node[]).length > 0, 'the tree still reads');
    } finally {
      if (savedEnv === undefined) delete process.env.KUBECONFIG;
      else process.env.KUBECONFIG = savedEnv;
      api.setTrusted(undefined);
      api.setPrompts(undefined);
    }
  });

  it('asks for the typed name of a protected environment before writing', async () => {
    const wrong = scriptedPrompts([{ match: /protected environment/, answer: 'prod' }]);
    api.setPrompts(wrong.prompts);
    const before = engine.acts.length;
    const refused = await vscode.commands.executeCommand<{ code: string }>('kubeDelivery.abort', ref('production'));
    assert.equal(refused.code, 'cancelled');
    assert.equal(engine.acts.length, before);
    assert.match(wrong.asked.join('\n'), /"production" is a protected environment/);
    api.setPrompts(scriptedPrompts([{ match: /protected environment/, answer: 'production' }]).prompts);
    const ok = await vscode.commands.executeCommand<{ ok: boolean }>('kubeDelivery.abort', ref('production'));
    assert.equal(ok.ok, true);
    assert.deepEqual(engine.acts.at(-1), { key: 'checkout@production', action: 'abort', options: { confirm: 'production' } });
    api.setPrompts(undefined);
  });

  it('starts a rollout from the palette: pipeline, environment, then the prefilled image', async () => {
    const s = scriptedPrompts([
      { match: /Start Rollout \| Pipeline/, answer: 'checkout|fake-examples' },
      { match: /Start Rollout \| Environment/, answer: 'staging' },
      { match: /Image to release/, answer: 'registry.example.com/checkout:1.9.0' },
    ]);
    api.setPrompts(s.prompts);
    const out = await vscode.commands.executeCommand<{ ok: boolean }>('kubeDelivery.startRollout');
    api.setPrompts(undefined);
    assert.equal(out.ok, true, s.asked.join('\n'));
    const last = engine.acts.at(-1)!;
    assert.equal(last.key, 'checkout@staging');
    assert.equal(last.action, 'start');
    assert.equal(last.options?.image, 'registry.example.com/checkout:1.9.0');
  });

  it('asks for the target of a palette action and offers only targets that allow it', async () => {
    const s = scriptedPrompts([{ match: /Promote/, answer: 'checkout → staging|fake-examples' }]);
    api.setPrompts(s.prompts);
    engine.emit(ref('staging'), { phase: 'waiting', gate: { kind: 'manual', since: new Date().toISOString(), message: 'waiting for promotion' }, actions: allow('promote', 'abort') });
    await waitFor(() => api.store.get(targetKey(ref('staging')))?.actions.promote.allowed, 5_000, 'promote allowed');
    const out = await vscode.commands.executeCommand<{ ok: boolean }>('kubeDelivery.promote');
    api.setPrompts(undefined);
    assert.equal(out.ok, true, s.asked.join('\n'));
    assert.deepEqual(engine.acts.at(-1), { key: 'checkout@staging', action: 'promote', options: {} });
  });

  it('shows CodeLens: Start rollout when idle, live state with Promote/Abort/Dashboard when active', async () => {
    const uri = vscode.Uri.file(checkoutFile());
    await vscode.window.showTextDocument(uri);
    const titles = async () => ((await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri)) ?? []).map((l) => l.command?.title ?? '');
    const t0 = Date.now();
    const active = await waitFor(async () => {
      const t = await titles();
      return t.some((x) => x === 'Promote') ? t : undefined;
    }, 10_000, 'active lenses');
    console.log(`CodeLens: active lenses after ${Date.now() - t0} ms`);
    assert.ok(active.includes('Abort') && active.includes('Dashboard'), active.join(' | '));
    assert.ok(active.some((t) => /^\$\(bell-dot\) staging: stage 2\/2/.test(t)), active.join(' | '));
    assert.ok(active.some((t) => /Start rollout to production/.test(t)), active.join(' | '));
    engine.emit(ref('staging'), { phase: 'succeeded', gate: undefined, actions: allow('start'), reason: 'healthy · 1.9.0' });
    const idle = await waitFor(async () => {
      const t = await titles();
      return t.some((x) => /Start rollout to staging/.test(x)) ? t : undefined;
    }, 10_000, 'idle lenses');
    console.log(`CodeLens: idle lenses after ${Date.now() - t0} ms`);
    assert.ok(!idle.includes('Promote'));
  });

  it('puts a failed gate on the threshold line with the measured value, and clears it on a new run', async () => {
    const uri = vscode.Uri.file(checkoutFile());
    const pipeline = api.index.pipelines().find((p) => p.file === checkoutFile() && p.name === 'checkout')!;
    const st = pipeline.strategy;
    assert.equal(st.type, 'canary');
    if (st.type !== 'canary') return;
    const stage = st.stages.findIndex((s) => s.analysis?.thresholdRanges.successRate);
    const range = st.stages[stage].analysis!.thresholdRanges.successRate!;
    engine.emit(ref('staging'), {
      phase: 'rolledBack',
      runId: 'r2',
      reason: 'rolled back: success rate 91.2% < 99%',
      analysis: [{ stage, check: 2, metric: 'successRate', query: 'q', value: 91.2, threshold: 99, comparator: 'min', verdict: 'fail', message: 'success rate 91.2% < 99%', at: new Date().toISOString() }],
    });
    const diag = await waitFor(() => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'Kube Delivery rollout'), 10_000, 'gate diagnostic');
    assert.equal(diag.range.start.line, range.start.line);
    assert.match(diag.message, /^rolled back: success rate 91\.2% < 99%, check 2 of \d+ at \d\d:\d\d/);
    engine.emit(ref('staging'), { phase: 'progressing', runId: 'r3', analysis: [], reason: 'stage 1/2' });
    await waitFor(() => !vscode.languages.getDiagnostics(uri).some((d) => d.source === 'Kube Delivery rollout'), 10_000, 'diagnostic cleared');
  });

  it('mirrors tests and checks in the Testing view; re-running a test reports the new attempt when its verdict streams in', async () => {
    const failedAt = new Date().toISOString();
    const first = { name: 'smoke', stage: 0, status: 'failed' as const, durationMs: 1500, message: 'exit 22', job: 'checkout-smoke-0', finishedAt: failedAt };
    engine.emit(ref('staging'), {
      phase: 'waiting',
      runId: 'r-tests',
      tests: [first],
      analysis: [{ stage: 0, check: 1, metric: 'successRate', query: 'q', value: 99.9, threshold: 99, comparator: 'min', verdict: 'pass', message: 'ok', at: new Date().toISOString() }],
    });
    const key = targetKey(ref('staging'));
    const test = await waitFor(() => api.tests.findItem(key, 'test/0/smoke'), 10_000, 'test item');
    assert.ok(api.tests.findItem(key, 'check/0/1/successRate'));
    assert.equal(test.uri?.fsPath, checkoutFile());
    // The stream's verdict: failed, with its duration and expected against actual.
    const streamed = await waitFor(() => api.tests.outcomes.get(test.id), 10_000, 'streamed result');
    assert.deepEqual([streamed.outcome, streamed.durationMs, streamed.expected, streamed.actual, streamed.run], ['failed', 1500, 'Job completes successfully', 'failed: exit 22', 'Rollout results']);

    const before = engine.acts.length;
    const cts = new vscode.CancellationTokenSource();
    // The run profile's handler, as the Testing view calls it for this one item: it returns once the
    // new attempt's verdict has arrived.
    let returned = false;
    const handled = Promise.resolve(api.tests.profile.runHandler(new vscode.TestRunRequest([test], undefined, api.tests.profile), cts.token)).then(() => (returned = true));
    await waitFor(() => engine.acts.length > before, 10_000, 'the re-run request');
    assert.deepEqual(engine.acts.slice(before), [{ key: 'checkout@staging', action: 'rerunTest', test: 'smoke', options: { confirm: undefined } }]);
    await waitFor(() => api.store.get(key)?.tests.some((t) => t.attempt === 2), 10_000, 'attempt 2 in the store');
    assert.equal(returned, false, 'the run waits for the verdict of attempt 2');
    assert.equal(api.tests.outcomes.get(test.id)?.run, 'Rollout results', 'the pending attempt is not reported by the stream');
    engine.emit(ref('staging'), { tests: [first, { name: 'smoke', stage: 0, status: 'running', attempt: 2, job: 'checkout-smoke-r2', startedAt: new Date().toISOString() }] });
    engine.emit(ref('staging'), { tests: [first, { name: 'smoke', stage: 0, status: 'passed', attempt: 2, job: 'checkout-smoke-r2', durationMs: 2400, finishedAt: new Date().toISOString() }] });
    await handled;
    const rerun = api.tests.outcomes.get(test.id)!;
    assert.deepEqual([rerun.outcome, rerun.durationMs, rerun.run], ['passed', 2400, 'Re-run rollout tests']);
    assert.equal(test.description, 'attempt 2');

    // Attempt 3 fails: the message shows what was expected against what happened.
    const third = api.tests.profile.runHandler(new vscode.TestRunRequest([test], undefined, api.tests.profile), cts.token);
    await waitFor(() => api.store.get(key)?.tests.some((t) => t.attempt === 3), 10_000, 'attempt 3 in the store');
    const tests = api.store.get(key)!.tests.filter((t) => t.attempt !== 3);
    engine.emit(ref('staging'), { tests: [...tests, { name: 'smoke', stage: 0, status: 'failed', attempt: 3, job: 'checkout-smoke-r3', durationMs: 900, message: 'exit 7', finishedAt: new Date().toISOString() }] });
    await third;
    const failed = api.tests.outcomes.get(test.id)!;
    assert.deepEqual([failed.outcome, failed.durationMs, failed.expected, failed.actual], ['failed', 900, 'Job completes successfully', 'failed: exit 7']);
    assert.match(failed.message ?? '', /attempt 3 \(Job checkout-smoke-r3\)/);

    // A check cannot be re-run on demand: nothing reaches the engine.
    const acts = engine.acts.length;
    const check = api.tests.findItem(key, 'check/0/1/successRate')!;
    await api.tests.profile.runHandler(new vscode.TestRunRequest([check], undefined, api.tests.profile), cts.token);
    assert.equal(engine.acts.length, acts);
    assert.equal(api.tests.outcomes.get(check.id)?.outcome, 'skipped');
  });

  it('re-running a test: refused with an explanation in Restricted Mode; typed confirmation in a protected environment', async () => {
    await waitFor(() => engine.watching(ref('production')) > 0, 10_000, 'watch on checkout@production');
    const first = { name: 'smoke', stage: 0, status: 'passed' as const, durationMs: 1000, job: 'checkout-smoke-p0', finishedAt: new Date().toISOString() };
    engine.emit(ref('production'), { phase: 'waiting', runId: 'p-tests', tests: [first], analysis: [] });
    const key = targetKey(ref('production'));
    const test = await waitFor(() => api.tests.findItem(key, 'test/0/smoke'), 10_000, 'production test item');
    const cts = new vscode.CancellationTokenSource();
    const run = () => api.tests.profile.runHandler(new vscode.TestRunRequest([test], undefined, api.tests.profile), cts.token);
    const before = engine.acts.length;

    api.setTrusted(false);
    try {
      await run();
    } finally {
      api.setTrusted(undefined);
    }
    assert.equal(engine.acts.length, before, 'nothing reached the engine');
    assert.equal(api.tests.outcomes.get(test.id)?.outcome, 'errored');
    assert.match(api.tests.outcomes.get(test.id)?.message ?? '', /Restricted Mode/);

    api.setPrompts(scriptedPrompts([{ match: /protected environment/, answer: 'prod' }]).prompts);
    await run();
    assert.equal(engine.acts.length, before, 'a wrong name writes nothing');
    assert.equal(api.tests.outcomes.get(test.id)?.outcome, 'skipped');

    api.setPrompts(scriptedPrompts([{ match: /protected environment/, answer: 'production' }]).prompts);
    const handled = run();
    await waitFor(() => api.store.get(key)?.tests.some((t) => t.attempt === 2), 10_000, 'attempt 2 in the store');
    assert.deepEqual(engine.acts.slice(before), [{ key: 'checkout@production', action: 'rerunTest', test: 'smoke', options: { confirm: 'production' } }]);
    engine.emit(ref('production'), { tests: [first, { name: 'smoke', stage: 0, status: 'passed', attempt: 2, job: 'checkout-smoke-r2', durationMs: 700 }] });
    await handled;
    assert.deepEqual([api.tests.outcomes.get(test.id)?.outcome, api.tests.outcomes.get(test.id)?.durationMs], ['passed', 700]);
    api.setPrompts(undefined);
  });

  it('stops watching the pipelines of a collapsed environment (the badge keeps its own watch)', async () => {
    await vscode.commands.executeCommand('workbench.view.extension.kubeDelivery');
    await waitFor(() => api.treeView.visible, 10_000, 'view visible again');
    const node = await pipelineNode('staging');
    // The view itself must show the pipeline before the collapse: right after the view comes back it may
    // still be rendering, and collapseAll on a tree not drawn yet collapses nothing (no collapse event),
    // after which the drawing asks for the children again and holds them. reveal resolves once drawn.
    await api.treeView.reveal(node, { expand: false, select: false, focus: false });
    await waitFor(() => api.tree.isHeld(node.id), 10_000, 'held while visible and expanded');
    await vscode.commands.executeCommand('workbench.actions.treeView.kubeDelivery.environments.collapseAll');
    await waitFor(() => !api.tree.isHeld(node.id), 10_000, 'tree released its watch');
    // The badge follows it through the attention stream; the run in progress keeps a full snapshot for the
    // status bar's tooltip.
    assert.ok(engine.followsAttention(ref('staging')), 'the badge still follows it');
    assert.ok(engine.watching(ref('staging')) >= 1, 'the status bar holds the run in progress');
    await api.treeView.reveal(node, { expand: false, select: true });
    await waitFor(() => api.tree.isHeld(node.id), 10_000, 'held again after reveal');
  });
});
