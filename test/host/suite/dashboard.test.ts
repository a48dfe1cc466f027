// The rollout dashboard inside a real VS Code, with an in-memory engine: the panel opens (and is reused),
// its real webview boots under the CSP and asks for the snapshot, updates go out as deltas, and every
// message the host receives is validated — forged or malformed messages and actions the engine does not
// allow are refused without reaching the engine; protected environments ask for the typed name.
// Messages are injected through the internal `kubeDelivery._dashboardInject` command, which feeds the
// panel's own message handler exactly as a post from the page would.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { ActionOptions, ActionResult, Disposable, RolloutService, RolloutTarget } from '../../../src/engine/api';
import type { RolloutAction, RolloutSnapshot } from '../../../src/engine/snapshot';
import type { HandleOutcome } from '../../../src/extension/dashboard/session';
import type { SurfacesApi } from '../../../src/extension/surfaces';
import { extensionId, waitFor } from '../util';

type Actions = RolloutSnapshot['actions'];

function actions(...allowed: RolloutAction[]): Actions {
  const out = {} as Actions;
  for (const a of ['start', 'promote', 'promoteFull', 'abort', 'pause', 'resume', 'retry'] as RolloutAction[]) {
    out[a] = allowed.includes(a) ? { allowed: true } : { allowed: false, reason: `not now: ${a} needs another state` };
  }
  return out;
}

/** In-memory engine: one canary run per target, advanced by `step`. */
class DashboardFakeEngine implements RolloutService {
  readonly listeners = new Map<string, Set<(s: RolloutSnapshot) => void>>();
  readonly state = new Map<string, RolloutSnapshot>();
  readonly acts: { key: string; action: RolloutAction; options?: ActionOptions }[] = [];

  private initial(t: RolloutTarget): RolloutSnapshot {
    const env = t.pipeline.environments.find((e) => e.name === t.environment)!;
    const now = Date.now();
    return {
      pipeline: t.pipeline.name,
      environment: t.environment,
      context: env.context,
      namespace: env.namespace,
      strategy: 'canary',
      router: 'replicas',
      seq: 1,
      runId: 'run-1',
      phase: 'waiting',
      reason: 'stage 2/3 · canary 50% · waiting for promotion',
      updatedAt: new Date(now).toISOString(),
      fromImage: 'registry.example.com/checkout:1.7.0',
      toImage: 'registry.example.com/checkout:1.8.0',
      stage: { index: 1, count: 3 },
      stages: [],
      weights: { requested: { canary: 50, baseline: 10, current: 40 }, actual: { canary: 50, baseline: 10, current: 40 } },
      versions: [],
      analysis: [],
      tests: [],
      timeline: [0, 1, 2].map((i) => ({ at: new Date(now - (3 - i) * 1000).toISOString(), stage: 1, requested: { canary: 50, baseline: 10, current: 40 }, actual: { canary: 50, baseline: 10, current: 40 } })),
      events: [],
      actions: actions('abort', 'pause'),
      history: [],
    };
  }

  key(t: RolloutTarget): string {
    return `${t.pipeline.name}@${t.environment}`;
  }

  async status(t: RolloutTarget): Promise<RolloutSnapshot> {
    const k = this.key(t);
    if (!this.state.has(k)) this.state.set(k, this.initial(t));
    return this.state.get(k)!;
  }

  watch(t: RolloutTarget, listener: (s: RolloutSnapshot) => void): Disposable {
    const k = this.key(t);
    let set = this.listeners.get(k);
    if (!set) this.listeners.set(k, (set = new Set()));
    set.add(listener);
    void this.status(t).then((s) => set!.has(listener) && listener(s));
    return { dispose: () => set!.delete(listener) };
  }

  /** One engine step: a new timeline point and whatever fields change. */
  step(pipeline: string, environment: string, over: Partial<RolloutSnapshot> = {}): RolloutSnapshot {
    const k = `${pipeline}@${environment}`;
    const prev = this.state.get(k)!;
    const last = prev.timeline[prev.timeline.length - 1];
    const point = { ...last, at: new Date(Date.parse(last.at) + 1000).toISOString() };
    const next = { ...prev, timeline: [...prev.timeline, point], ...over, seq: prev.seq + 1 };
    this.state.set(k, next);
    for (const l of this.listeners.get(k) ?? []) l(next);
    return next;
  }

  async act(t: RolloutTarget, action: RolloutAction, options?: ActionOptions): Promise<ActionResult> {
    this.acts.push({ key: this.key(t), action, options });
    return { ok: true, snapshot: await this.status(t) };
  }

  dispose(): void {
    this.listeners.clear();
  }
}

interface PanelInfo {
  key: { pipeline: string; environment: string };
  seq?: number;
  visible: boolean;
  stats: { full: number; deltas: number; rejected: number };
}

const panels = () => vscode.commands.executeCommand<PanelInfo[]>('kubeDelivery._dashboardPanels');
const inject = (key: unknown, message: unknown) => vscode.commands.executeCommand<HandleOutcome>('kubeDelivery._dashboardInject', key, message);

describe('rollout dashboard (in-memory engine)', function () {
  this.timeout(90_000);
  let api: SurfacesApi;
  let engine: DashboardFakeEngine;
  let file: string;
  const staging = { pipeline: 'checkout', environment: 'staging' };
  const production = { pipeline: 'checkout', environment: 'production' };
  const panelOf = async (k: typeof staging) => (await panels()).find((p) => p.key.pipeline === k.pipeline && p.key.environment === k.environment);

  before(async () => {
    const ext = vscode.extensions.getExtension(extensionId)!;
    api = ((await ext.activate()) as { surfaces: SurfacesApi }).surfaces;
    engine = new DashboardFakeEngine();
    api.setServiceFactory(() => engine);
    const dir = path.join(vscode.workspace.workspaceFolders![0].uri.fsPath, 'dashboard-examples');
    fs.mkdirSync(dir, { recursive: true });
    file = path.join(dir, 'canary-replicas.deploy.yaml');
    fs.copyFileSync(path.join(ext.extensionPath, 'examples', 'canary-replicas.deploy.yaml'), file);
    await api.index.rescan();
    await waitFor(() => api.index.pipelines().some((p) => p.file === file), 20_000, 'example pipeline indexed');
  });

  after(async () => {
    api.setPrompts(undefined);
    api.setServiceFactory(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('opens one panel per pipeline × environment and reuses it', async () => {
    assert.equal(await vscode.commands.executeCommand('kubeDelivery.openDashboard', { ...staging, file }), true);
    assert.equal(await vscode.commands.executeCommand('kubeDelivery.openDashboard', { ...staging, file }), true);
    const open = (await panels()).filter((p) => p.key.environment === 'staging');
    assert.equal(open.length, 1);
  });

  it('its webview boots under the CSP, asks for the snapshot and then gets deltas', async () => {
    // `full` only counts snapshots sent after the page posted `ready`: proof the bundle ran in the webview.
    const first = await waitFor(async () => {
      const p = await panelOf(staging);
      return p && p.stats.full >= 1 ? p : undefined;
    }, 60_000, 'the dashboard page to post ready');
    assert.equal(first.seq, 1);
    engine.step('checkout', 'staging');
    engine.step('checkout', 'staging', { reason: 'stage 2/3 · canary 50% · analysis 1 of 3' });
    const later = await waitFor(async () => {
      const p = await panelOf(staging);
      return p && p.seq === 3 ? p : undefined;
    }, 10_000, 'seq 3');
    assert.equal(later.stats.deltas >= 2, true, JSON.stringify(later.stats));
    assert.equal(later.stats.full, first.stats.full, 'no full snapshot for ordinary updates');
  });

  it('rejects forged and malformed messages without reaching the engine', async () => {
    const before = engine.acts.length;
    const forged: unknown[] = [
      { type: 'runCommand', key: staging, command: 'workbench.action.terminal.new' },
      { type: 'act', key: { pipeline: 'payments', environment: 'staging' }, action: 'abort', requestId: 1 },
      { type: 'act', key: staging, action: 'abort', requestId: 'one' },
      { type: 'act', key: staging, action: 'abort', requestId: 2, confirm: 'staging' },
      { type: 'act', key: { pipeline: 'checkout', environment: 'staging\n' }, action: 'abort', requestId: 3 },
      'abort',
      null,
    ];
    for (const m of forged) {
      const r = await inject(staging, m);
      assert.equal(r.accepted, false, `accepted ${JSON.stringify(m)}`);
    }
    assert.equal(engine.acts.length, before);
    const p = await panelOf(staging);
    assert.equal(p!.stats.rejected >= forged.length, true);
  });

  it('refuses an action the engine does not allow, and performs one it allows', async () => {
    const refused = await inject(staging, { type: 'act', key: staging, action: 'promote', requestId: 10 });
    assert.deepEqual(refused, { accepted: false, error: 'action `promote` not allowed: not now: promote needs another state' });
    assert.equal(engine.acts.some((a) => a.action === 'promote'), false);

    engine.step('checkout', 'staging', { actions: actions('promote', 'promoteFull', 'abort', 'pause') });
    await waitFor(async () => (await panelOf(staging))?.seq === 4, 10_000, 'seq 4');
    const done = await inject(staging, { type: 'act', key: staging, action: 'promote', requestId: 11 });
    assert.equal(done.accepted, true);
    assert.deepEqual(engine.acts.filter((a) => a.action === 'promote').map((a) => [a.key, a.options?.confirm]), [['checkout@staging', undefined]]);
  });

  it('asks for the typed environment name in a protected environment, like the tree', async () => {
    const asked: string[] = [];
    const answers = ['prod', 'production'];
    api.setPrompts({
      pick: async () => undefined,
      input: async (o: { prompt: string; validate?: (v: string) => string | undefined }) => {
        asked.push(o.prompt);
        const v = answers.shift();
        return v === undefined || o.validate?.(v) ? undefined : v;
      },
    } as never);
    assert.equal(await vscode.commands.executeCommand('kubeDelivery.openDashboard', { ...production, file }), true);
    await waitFor(async () => (await panelOf(production))?.seq !== undefined, 20_000, 'production snapshot');
    const wrong = await inject(production, { type: 'act', key: production, action: 'abort', requestId: 1 });
    assert.deepEqual(wrong, { accepted: true, type: 'act', ok: false, message: 'cancelled: the environment name was not confirmed' });
    assert.equal(engine.acts.some((a) => a.key === 'checkout@production'), false);
    const right = await inject(production, { type: 'act', key: production, action: 'abort', requestId: 2 });
    assert.equal(right.accepted && right.type === 'act' && right.ok, true);
    assert.deepEqual(engine.acts.filter((a) => a.key === 'checkout@production').map((a) => [a.action, a.options?.confirm]), [['abort', 'production']]);
    assert.match(asked[0], /"production" is a protected environment\. Type its name to abort checkout/);
    // A message for the staging panel is an unknown rollout to the production panel.
    const cross = await inject(production, { type: 'act', key: staging, action: 'abort', requestId: 3 });
    assert.equal(cross.accepted, false);
  });

  it('closing the panel stops its watch', async () => {
    const before = engine.listeners.get('checkout@staging')?.size ?? 0;
    assert.ok(before >= 1);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor(async () => !(await panelOf(staging)), 10_000, 'panel gone');
    assert.equal(engine.listeners.get('checkout@staging')?.size ?? 0, before - 1);
  });
});
