import assert from 'node:assert/strict';
import type { ActionOptions, ActionResult, RolloutService, RolloutTarget } from '../../../src/engine/api';
import type { RolloutAction, RolloutSnapshot } from '../../../src/engine/snapshot';
import { DashboardSession } from '../../../src/extension/dashboard/session';
import { applyDelta } from '../../../src/webview/delta';
import type { HostMessage } from '../../../src/webview/protocol';
import { allActions, canarySnapshot, nextSnapshot, pipelineFor } from './fixtures';

class FakeService implements RolloutService {
  listeners: ((s: RolloutSnapshot) => void)[] = [];
  acts: { action: RolloutAction; options?: ActionOptions }[] = [];
  results: ActionResult[] = [];
  disposedWatches = 0;
  constructor(public current: RolloutSnapshot) {}
  async status(): Promise<RolloutSnapshot> {
    return this.current;
  }
  watch(_t: RolloutTarget, listener: (s: RolloutSnapshot) => void) {
    this.listeners.push(listener);
    listener(this.current);
    return { dispose: () => void this.disposedWatches++ };
  }
  emit(s: RolloutSnapshot): void {
    this.current = s;
    for (const l of this.listeners) l(s);
  }
  async act(_t: RolloutTarget, action: RolloutAction, options?: ActionOptions): Promise<ActionResult> {
    this.acts.push({ action, options });
    return this.results.shift() ?? { ok: true, snapshot: this.current };
  }
  dispose(): void {}
}

function setup(opts: { protectedEnv?: boolean; confirmAnswers?: (string | undefined)[] } = {}) {
  const env = opts.protectedEnv ? 'production' : 'staging';
  const snap = canarySnapshot({ protectedEnv: opts.protectedEnv });
  const service = new FakeService(snap);
  const posted: HostMessage[] = [];
  const logs: string[] = [];
  const asked: string[] = [];
  const answers = [...(opts.confirmAnswers ?? [])];
  const session = new DashboardSession({
    target: { pipeline: pipelineFor(env, !!opts.protectedEnv), environment: env },
    getService: async () => service,
    post: (m) => {
      posted.push(JSON.parse(JSON.stringify(m)) as HostMessage);
      return true;
    },
    confirm: async (e, what) => {
      asked.push(`${e}: ${what}`);
      return answers.shift();
    },
    log: { info: (m) => logs.push(`info ${m}`), warn: (m) => logs.push(`warn ${m}`), error: (m) => logs.push(`error ${m}`) },
  });
  const key = { pipeline: 'checkout', environment: env };
  return { session, service, posted, logs, asked, key, snap };
}

/** Replays what the page would do with the posted messages. */
function pageState(posted: HostMessage[]): RolloutSnapshot | undefined {
  let s: RolloutSnapshot | undefined;
  for (const m of posted) {
    if (m.type === 'snapshot') s = m.snapshot;
    if (m.type === 'delta') {
      const r = applyDelta(s!, m.delta);
      assert.ok(r.ok, r.ok ? '' : r.error);
      s = r.snapshot;
    }
  }
  return s;
}

describe('dashboard session (host side)', () => {
  it('sends one full snapshot after ready, then deltas that reproduce the engine snapshots', async () => {
    const { session, service, posted, key } = setup();
    await session.start();
    assert.equal(posted.length, 0, 'nothing before the page is ready');
    await session.handleMessage({ type: 'ready', key });
    assert.equal(posted[0].type, 'snapshot');
    let s = service.current;
    for (let i = 0; i < 5; i++) {
      s = nextSnapshot(s);
      service.emit(s);
    }
    await Promise.resolve();
    assert.deepEqual(posted.map((m) => m.type), ['snapshot', 'delta', 'delta', 'delta', 'delta', 'delta']);
    for (const m of posted.slice(1)) if (m.type === 'delta') assert.equal(m.delta.append.timeline?.length, 1);
    assert.deepEqual(pageState(posted), JSON.parse(JSON.stringify(s)));
    assert.deepEqual(session.stats, { full: 1, deltas: 5, rejected: 0 });
  });

  it('sends a full snapshot again on resync and for a new run', async () => {
    const { session, service, posted, key } = setup();
    await session.start();
    await session.handleMessage({ type: 'ready', key });
    await session.handleMessage({ type: 'resync', key, haveSeq: 1 });
    service.emit({ ...canarySnapshot({ runId: 'run-2', seq: 1 }) });
    await Promise.resolve();
    assert.deepEqual(posted.map((m) => m.type), ['snapshot', 'snapshot', 'snapshot']);
  });

  it('rejects and logs forged or malformed messages without calling the engine', async () => {
    const { session, service, posted, logs, key } = setup();
    await session.start();
    const forged = [
      { type: 'act', key: { pipeline: 'payments', environment: 'staging' }, action: 'abort', requestId: 1 },
      { type: 'act', key, action: 'rm -rf', requestId: 2 },
      { type: 'eval', key, code: 'x' },
      { type: 'act', key, action: 'promote', requestId: 'x' },
      42,
    ];
    for (const f of forged) {
      const r = await session.handleMessage(f);
      assert.equal(r.accepted, false);
    }
    assert.equal(service.acts.length, 0);
    assert.equal(logs.filter((l) => l.startsWith('warn dashboard checkout/staging: rejected message')).length, 5);
    assert.equal(session.stats.rejected, 5);
    // The refused act with a valid request id gets an answer so the page's button does not hang.
    assert.equal(posted.filter((m) => m.type === 'actionResult').length, 1);
  });

  it('refuses an action the engine does not allow, and does not call act', async () => {
    const { session, service, posted, key } = setup();
    await session.start();
    const r = await session.handleMessage({ type: 'act', key, action: 'resume', requestId: 7 });
    assert.deepEqual(r, { accepted: false, error: 'action `resume` not allowed: resume is not possible in this state' });
    assert.equal(service.acts.length, 0);
    const answer = posted.find((m) => m.type === 'actionResult');
    assert.ok(answer && answer.type === 'actionResult' && !answer.ok && answer.requestId === 7);
  });

  it('acts on an allowed action and reports the engine answer', async () => {
    const { session, service, posted, key } = setup();
    await session.start();
    await session.handleMessage({ type: 'ready', key });
    const after = nextSnapshot(service.current, { stage: { index: 2, count: 3 }, reason: 'stage 3/3 · canary 100%', actions: allActions({ abort: true }) });
    service.results.push({ ok: true, snapshot: after });
    const r = await session.handleMessage({ type: 'act', key, action: 'promote', requestId: 1 });
    assert.deepEqual(r, { accepted: true, type: 'act', ok: true, message: 'stage 3/3 · canary 100%' });
    assert.deepEqual(service.acts, [{ action: 'promote', options: { confirm: undefined, actor: undefined } }]);
    assert.equal(pageState(posted)?.stage.index, 2, 'the page got the result snapshot');
    // Now promote is no longer allowed by the latest snapshot.
    const again = await session.handleMessage({ type: 'act', key, action: 'promote', requestId: 2 });
    assert.equal(again.accepted, false);
  });

  it('reports an engine refusal as a failed action', async () => {
    const { session, service, key } = setup();
    await session.start();
    service.results.push({ ok: false, code: 'conflict', message: 'the record changed: try again' });
    const r = await session.handleMessage({ type: 'act', key, action: 'abort', requestId: 1 });
    assert.deepEqual(r, { accepted: true, type: 'act', ok: false, message: 'the record changed: try again' });
  });

  it('protected environment: asks for the typed name and passes it to the engine; cancel means no call', async () => {
    const { session, service, asked, key } = setup({ protectedEnv: true, confirmAnswers: [undefined, 'production'] });
    await session.start();
    const cancelled = await session.handleMessage({ type: 'act', key, action: 'abort', requestId: 1 });
    assert.deepEqual(cancelled, { accepted: true, type: 'act', ok: false, message: 'cancelled: the environment name was not confirmed' });
    assert.equal(service.acts.length, 0);
    const done = await session.handleMessage({ type: 'act', key, action: 'abort', requestId: 2 });
    assert.equal(done.accepted && done.type === 'act' && done.ok, true);
    assert.deepEqual(service.acts, [{ action: 'abort', options: { confirm: 'production', actor: undefined } }]);
    assert.deepEqual(asked, ['production: abort checkout', 'production: abort checkout']);
  });

  it('asks for confirmation when the engine says it needs one', async () => {
    const { session, service, asked, key } = setup({ confirmAnswers: ['staging'] });
    await session.start();
    service.results.push({ ok: false, code: 'needsConfirmation', message: 'staging is protected' });
    const r = await session.handleMessage({ type: 'act', key, action: 'promote', requestId: 1 });
    assert.equal(r.accepted && r.type === 'act' && r.ok, true);
    assert.deepEqual(service.acts.map((a) => a.options?.confirm), [undefined, 'staging']);
    assert.equal(asked.length, 1);
  });

  it('ignores stale snapshots and stops watching when disposed', async () => {
    const { session, service, key, posted } = setup();
    await session.start();
    await session.handleMessage({ type: 'ready', key });
    const newer = nextSnapshot(nextSnapshot(service.current));
    service.emit(newer);
    await session.onSnapshot({ ...newer, seq: newer.seq - 1, reason: 'stale' });
    assert.equal(session.snapshot?.reason, newer.reason);
    session.dispose();
    assert.equal(service.disposedWatches, 1);
    const before = posted.length;
    service.emit(nextSnapshot(newer));
    assert.equal(posted.length, before);
  });

  it('tells the page when the engine cannot be reached', async () => {
    const posted: HostMessage[] = [];
    const session = new DashboardSession({
      target: { pipeline: pipelineFor('staging', false), environment: 'staging' },
      getService: async () => {
        throw new Error('no kubeconfig context "sandbox"');
      },
      post: (m) => (posted.push(m), true),
      confirm: async () => undefined,
      log: { info() {}, warn() {}, error() {} },
    });
    await session.start();
    assert.deepEqual(posted, [{ type: 'unavailable', key: { pipeline: 'checkout', environment: 'staging' }, message: 'Cannot reach the rollout engine: no kubeconfig context "sandbox"' }]);
  });
});
