// The Testing view mirrors each watched rollout's stage tests and analysis checks. Results are
// reported as they change (one TestRun per batch of changes); running a test item asks the engine to
// re-run that test Job (RolloutService.rerunTest), with the same trust and protection rules as every
// other write: progress until the engine acknowledges, then the run stays open until the new attempt's
// verdict arrives through the snapshot stream (no polling) and reports it there. Analysis checks follow
// their schedule and cannot be re-run on demand.
import * as vscode from 'vscode';
import type { Log } from '../log';
import type { PipelineIndex } from '../model/pipelineIndex';
import type { SnapshotStore } from '../model/snapshotStore';
import { allTargets, targetKey, targetLabel, type ResolvedTarget } from '../model/targets';
import { getRolloutService } from '../services';
import { isTrusted, refuseUntrusted } from '../trust';
import { confirmProtected } from '../commands/confirm';
import { finishedAttempt, latestAttempts, resultItems, type Outcome, type ResultItem } from './results';
import type { ActionResult } from '../../engine/api';
import type { RolloutSnapshot, TestRun } from '../../engine/snapshot';

/** What the view was last told about an item (host tests read it: VS Code offers no API for results). */
export interface ReportedOutcome {
  outcome: Outcome;
  durationMs?: number;
  message?: string;
  expected?: string;
  actual?: string;
  /** The TestRun's name: "Rollout results" (from the stream) or "Re-run rollout tests". */
  run: string;
}

const RESULTS_RUN = 'Rollout results';
const RERUN_RUN = 'Re-run rollout tests';

export class RolloutTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('kubeDelivery.rollouts', 'Kube Delivery rollouts');
  private readonly reported = new Map<string, string>();
  /** Items whose verdict a re-run waits for: the stream leaves them to that run. */
  private readonly awaiting = new Set<string>();
  /** Last outcome told to the view, per item id. */
  readonly outcomes = new Map<string, ReportedOutcome>();
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
        item.description = r.attempt && r.attempt > 1 ? `attempt ${r.attempt}` : undefined;
        this.meta.set(item, { target, item: r });
        if (this.awaiting.has(id)) continue;
        if (this.reported.get(id) !== r.signature) {
          this.reported.set(id, r.signature);
          changes.push({ test: item, r });
        }
      }
    }
    if (!changes.length) return;
    const run = this.controller.createTestRun(new vscode.TestRunRequest(changes.map((c) => c.test)), RESULTS_RUN, false);
    for (const { test, r } of changes) this.report(run, RESULTS_RUN, test, r);
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
    const run = this.controller.createTestRun(request, RERUN_RUN, false);
    const verdicts: Promise<void>[] = [];
    try {
      // Requests one by one (a protected environment asks its question in turn); verdicts in parallel.
      for (const item of picked) {
        if (token.isCancellationRequested) break;
        const m = this.meta.get(item);
        if (!m?.item || m.item.kind !== 'test' || !m.item.testName) {
          run.skipped(item);
          run.appendOutput(`${item.label}: analysis checks run on their schedule and cannot be re-run on demand.\r\n`, undefined, item);
          this.outcomes.set(item.id, { outcome: 'skipped', message: 'analysis checks cannot be re-run on demand', run: RERUN_RUN });
          continue;
        }
        const waiting = await this.rerun(run, item, m.target, m.item.testName, m.item.stage, token);
        if (waiting) verdicts.push(waiting);
      }
      await Promise.all(verdicts);
    } finally {
      run.end();
    }
  }

  /** Asks the engine for a new attempt; resolves to the wait for its verdict, or undefined when refused. */
  private async rerun(run: vscode.TestRun, item: vscode.TestItem, target: ResolvedTarget, test: string, stage: number, token: vscode.CancellationToken): Promise<Promise<void> | undefined> {
    const label = `${targetLabel(target)} test ${test}`;
    const fail = (message: string) => {
      run.errored(item, new vscode.TestMessage(message));
      this.outcomes.set(item.id, { outcome: 'errored', message, run: RERUN_RUN });
    };
    if (!isTrusted()) {
      fail(`Not re-run: this workspace is in Restricted Mode, where Kube Delivery never writes to a cluster (a re-run creates a Job). Trust the workspace to re-run ${label}.`);
      void refuseUntrusted(`re-run ${label}`);
      return undefined;
    }
    let confirm: string | undefined;
    if (target.environmentModel.protected) {
      confirm = await confirmProtected(target.environment, `re-run test ${test} of ${target.pipeline}`);
      if (!confirm) {
        run.skipped(item);
        run.appendOutput(`${label}: not re-run (the protected environment's name was not confirmed).\r\n`, undefined, item);
        this.outcomes.set(item.id, { outcome: 'skipped', message: 'confirmation cancelled', run: RERUN_RUN });
        return undefined;
      }
    }
    run.enqueued(item);
    // Hold a watch while the attempt runs, so its verdict streams in even if no view shows the target.
    const hold = this.store.acquire(target);
    this.awaiting.add(item.id);
    let handedOver = false;
    try {
      this.log.info(`Re-run ${label}`);
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Kube Delivery: re-running ${label}…`, cancellable: false },
        async (): Promise<ActionResult> => {
          try {
            const service = await getRolloutService();
            if (!service.rerunTest) return { ok: false, code: 'other', message: 'this engine cannot re-run a single test Job' };
            return await service.rerunTest({ pipeline: target.pipelineModel, environment: target.environment }, test, { confirm });
          } catch (err) {
            return { ok: false, code: 'other', message: err instanceof Error ? err.message : String(err) };
          }
        },
      );
      if (!result.ok) {
        this.log.error(`Re-run ${label} failed (${result.code}): ${result.message}`);
        fail(`Could not re-run ${label}: ${result.message}`);
        return undefined;
      }
      this.store.put(target, result.snapshot);
      const attempt = newestAttempt(result.snapshot, test, stage);
      if (!attempt) {
        fail(`The engine acknowledged the re-run of ${label} but its snapshot shows no attempt of the test.`);
        return undefined;
      }
      run.started(item);
      run.appendOutput(`${label}: attempt ${attempt.attempt ?? 1}${attempt.job ? ` as Job ${attempt.job}` : ''}\r\n`, undefined, item);
      handedOver = true;
      return this.awaitVerdict(run, item, target, { name: test, stage, attempt: attempt.attempt ?? 1, job: attempt.job, runId: result.snapshot.runId }, token).finally(() => {
        this.awaiting.delete(item.id);
        hold.dispose();
      });
    } finally {
      if (!handedOver) {
        this.awaiting.delete(item.id);
        hold.dispose();
      }
    }
  }

  /**
   * Resolves when the attempt's verdict is in the stream (reported in `run`), when the run it belongs
   * to is replaced, or when the user cancels (the Job keeps running; its verdict shows in the view later).
   */
  private awaitVerdict(run: vscode.TestRun, item: vscode.TestItem, target: ResolvedTarget, want: { name: string; stage: number; attempt: number; job?: string; runId?: string }, token: vscode.CancellationToken): Promise<void> {
    const key = targetKey(target);
    return new Promise<void>((resolve) => {
      let done = false;
      const finish = (how: () => void) => {
        if (done) return;
        done = true;
        sub.dispose();
        cancel.dispose();
        how();
        resolve();
      };
      const check = () => {
        const s = this.store.get(key);
        if (!s) return;
        const t = finishedAttempt(s, want);
        if (t) {
          const r = resultItems({ ...s, tests: [t] })[0];
          finish(() => {
            this.report(run, RERUN_RUN, item, r);
            this.reported.set(item.id, resultItems(s).find((x) => x.id === r.id)?.signature ?? r.signature);
          });
        } else if (want.runId && s.runId !== want.runId) {
          finish(() => {
            const message = `run ${want.runId} ended before attempt ${want.attempt} of test ${want.name} finished`;
            run.skipped(item);
            run.appendOutput(`${item.label}: ${message}\r\n`, undefined, item);
            this.outcomes.set(item.id, { outcome: 'skipped', message, run: RERUN_RUN });
          });
        }
      };
      const sub = this.store.onDidChange((keys) => keys.includes(key) && check());
      const cancel = token.onCancellationRequested(() =>
        finish(() => {
          const message = `stopped waiting; Job ${want.job ?? ''} keeps running and its verdict will show here when it arrives`;
          run.skipped(item);
          run.appendOutput(`${item.label}: ${message}\r\n`, undefined, item);
          this.outcomes.set(item.id, { outcome: 'skipped', message, run: RERUN_RUN });
          // Let the stream report the verdict later.
          this.reported.delete(item.id);
        }),
      );
      check();
    });
  }

  private report(run: vscode.TestRun, runName: string, test: vscode.TestItem, r: ResultItem): void {
    report(run, test, r);
    this.outcomes.set(test.id, { outcome: r.outcome, durationMs: r.durationMs, message: r.message, expected: r.expected, actual: r.actual, run: runName });
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
  }
}

/** The attempt a re-run just added: the highest attempt of the test in the stage. */
function newestAttempt(s: RolloutSnapshot, test: string, stage: number): TestRun | undefined {
  return latestAttempts(s.tests).find((t) => t.name === test && t.stage === stage);
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
