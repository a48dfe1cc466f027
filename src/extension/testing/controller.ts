// The Testing view mirrors each watched rollout's stage tests and analysis checks. Results are
// reported as they change (one TestRun per batch of changes); running a test item asks the engine to
// re-run that test Job (RolloutService.rerunTest), with the same trust and protection rules as every
// other write. Analysis checks follow their schedule and cannot be re-run on demand.
import * as vscode from 'vscode';
import type { Log } from '../log';
import type { PipelineIndex } from '../model/pipelineIndex';
import type { SnapshotStore } from '../model/snapshotStore';
import { allTargets, targetKey, targetLabel, type ResolvedTarget } from '../model/targets';
import { getRolloutService } from '../services';
import { isTrusted, refuseUntrusted } from '../trust';
import { confirmProtected } from '../commands/confirm';
import { resultItems, type ResultItem } from './results';

export class RolloutTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('kubeDelivery.rollouts', 'Kube Delivery rollouts');
  private readonly reported = new Map<string, string>();
  private readonly meta = new WeakMap<vscode.TestItem, { target: ResolvedTarget; item?: ResultItem }>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly store: SnapshotStore,
    private readonly index: PipelineIndex,
    private readonly log: Log,
  ) {
    this.profile = this.controller.createRunProfile('Re-run test Job', vscode.TestRunProfileKind.Run, (req, token) => this.run(req, token), true);
    this.subs.push(
      this.controller,
      { dispose: store.onDidChange((keys) => this.sync(keys)).dispose },
      index.onDidChange(() => this.prune()),
    );
  }

  /** The run profile (host tests call its handler with a request for one item). */
  readonly profile: vscode.TestRunProfile;

  /** Targets removed from the deploy files lose their items. */
  private prune(): void {
    const live = new Set(allTargets(this.index.pipelines()).map(targetKey));
    const gone: string[] = [];
    this.controller.items.forEach((item) => {
      if (!live.has(item.id)) gone.push(item.id);
    });
    for (const id of gone) this.controller.items.delete(id);
  }

  /** The item of a target, or of one of its results (`test/<stage>/<name>`, `check/<stage>/<n>/<metric>`). */
  findItem(key: string, resultId?: string): vscode.TestItem | undefined {
    const root = this.controller.items.get(key);
    return resultId ? root?.children.get(`${key}/${resultId}`) : root;
  }

  private sync(keys: string[]): void {
    const targets = new Map(allTargets(this.index.pipelines()).map((t) => [targetKey(t), t]));
    const changes: { test: vscode.TestItem; r: ResultItem }[] = [];
    for (const key of keys) {
      const s = this.store.get(key);
      const target = targets.get(key);
      if (!s || !target || (!s.tests.length && !s.analysis.length)) continue;
      let root = this.controller.items.get(key);
      if (!root) {
        root = this.controller.createTestItem(key, targetLabel(target), vscode.Uri.file(target.file));
        root.range = toRange(target.environmentModel.range);
        this.controller.items.add(root);
      }
      this.meta.set(root, { target });
      root.description = s.runId ? `run ${s.runId}` : undefined;
      const items = resultItems(s);
      const ids = new Set(items.map((r) => `${key}/${r.id}`));
      root.children.forEach((c) => {
        if (!ids.has(c.id)) root!.children.delete(c.id);
      });
      for (const r of items) {
        const id = `${key}/${r.id}`;
        let item = root.children.get(id);
        if (!item) {
          item = this.controller.createTestItem(id, r.label, vscode.Uri.file(target.file));
          root.children.add(item);
        }
        item.range = this.rangeOf(target, r);
        this.meta.set(item, { target, item: r });
        if (this.reported.get(id) !== r.signature) {
          this.reported.set(id, r.signature);
          changes.push({ test: item, r });
        }
      }
    }
    if (!changes.length) return;
    const run = this.controller.createTestRun(new vscode.TestRunRequest(changes.map((c) => c.test)), 'Rollout results', false);
    for (const { test, r } of changes) report(run, test, r);
    run.end();
  }

  private rangeOf(target: ResolvedTarget, r: ResultItem): vscode.Range | undefined {
    const st = target.pipelineModel.strategy;
    if (r.kind === 'check' && r.metric) {
      const analysis = st.type === 'canary' ? st.stages[r.stage]?.analysis : st.type === 'blueGreen' ? st.analysis : undefined;
      const range = analysis?.thresholdRanges[r.metric] ?? analysis?.range;
      if (range) return toRange(range);
    }
    if (r.kind === 'test' && r.testName) {
      const spec = target.pipelineModel.tests[r.testName];
      if (spec) return toRange(spec.range);
    }
    return toRange(target.environmentModel.range);
  }

  private async run(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const picked: vscode.TestItem[] = [];
    const collect = (i: vscode.TestItem) => {
      if (request.exclude?.includes(i)) return;
      if (i.children.size) i.children.forEach(collect);
      else picked.push(i);
    };
    if (request.include) request.include.forEach(collect);
    else this.controller.items.forEach(collect);
    const run = this.controller.createTestRun(request, 'Re-run rollout tests', false);
    try {
      for (const item of picked) {
        if (token.isCancellationRequested) break;
        const m = this.meta.get(item);
        if (!m?.item || m.item.kind !== 'test' || !m.item.testName) {
          run.skipped(item);
          run.appendOutput(`${item.label}: analysis checks run on their schedule and cannot be re-run on demand.\r\n`);
          continue;
        }
        await this.rerun(run, item, m.target, m.item.testName);
      }
    } finally {
      run.end();
    }
  }

  private async rerun(run: vscode.TestRun, item: vscode.TestItem, target: ResolvedTarget, test: string): Promise<void> {
    const label = `${targetLabel(target)} test ${test}`;
    if (!isTrusted()) {
      run.errored(item, new vscode.TestMessage('Restricted Mode: Kube Delivery does not write to clusters from an untrusted workspace.'));
      void refuseUntrusted(`re-run ${label}`);
      return;
    }
    const service = await getRolloutService();
    if (!service.rerunTest) {
      run.errored(item, new vscode.TestMessage('This engine cannot re-run a single test Job.'));
      return;
    }
    let confirm: string | undefined;
    if (target.environmentModel.protected) {
      confirm = await confirmProtected(target.environment, `re-run test ${test} of ${target.pipeline}`);
      if (!confirm) {
        run.skipped(item);
        return;
      }
    }
    run.started(item);
    this.log.info(`Re-run ${label}`);
    const result = await service.rerunTest({ pipeline: target.pipelineModel, environment: target.environment }, test, { confirm });
    if (!result.ok) {
      this.log.error(`Re-run ${label} failed (${result.code}): ${result.message}`);
      run.errored(item, new vscode.TestMessage(result.message));
      return;
    }
    this.store.put(target, result.snapshot);
    // The Job now runs in the cluster; its verdict arrives through the watch like any other result.
    this.reported.delete(item.id);
    run.enqueued(item);
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
  }
}

function report(run: vscode.TestRun, test: vscode.TestItem, r: ResultItem): void {
  switch (r.outcome) {
    case 'passed':
      run.passed(test, r.durationMs);
      return;
    case 'running':
      run.started(test);
      return;
    case 'enqueued':
      run.enqueued(test);
      return;
    case 'skipped':
      if (r.message) run.appendOutput(`${r.label}: ${r.message.replace(/\n/g, '\r\n')}\r\n`, undefined, test);
      run.skipped(test);
      return;
    case 'failed':
    case 'errored': {
      const msg = r.expected !== undefined && r.actual !== undefined ? vscode.TestMessage.diff(r.message ?? r.label, r.expected, r.actual) : new vscode.TestMessage(r.message ?? r.label);
      msg.location = test.uri && test.range ? new vscode.Location(test.uri, test.range) : undefined;
      if (r.outcome === 'failed') run.failed(test, msg, r.durationMs);
      else run.errored(test, msg, r.durationMs);
      return;
    }
  }
}

function toRange(r: { start: { line: number; character: number }; end: { line: number; character: number } }): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}
