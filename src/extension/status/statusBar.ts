// The badge on the Environments view (rollouts waiting for a human, in every environment) and the
// status-bar item (rollouts in progress; click opens the dashboard). Both need every target's state:
// once the user shows interest in clusters (opened the view, opened a deploy file, ran a command) the
// AttentionTracker follows every target of the workspace — through the engine's light record stream,
// with full snapshots only for runs in progress. Before that nothing is watched, so activation and
// editing YAML never load the engine.
import * as vscode from 'vscode';
import type { RolloutService } from '../../engine/api';
import type { Event } from '../model/events';
import type { PipelineIndex } from '../model/pipelineIndex';
import type { SnapshotStore } from '../model/snapshotStore';
import { allTargets, targetKey, targetLabel } from '../model/targets';
import { mergedStatus } from '../model/status';
import { AttentionTracker } from './attentionTracker';
import { badgeTooltip, statusBarText, type Summary } from './summary';

export class RolloutSummary implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('kubeDelivery.rollouts', vscode.StatusBarAlignment.Left, 50);
  private readonly tracker: AttentionTracker;
  private started = false;
  private readonly subs: vscode.Disposable[] = [];
  private last: Summary = { waiting: [], active: [] };
  private view: vscode.TreeView<unknown> | undefined;

  constructor(
    private readonly index: PipelineIndex,
    private readonly store: SnapshotStore,
    getService: () => Promise<RolloutService>,
    onDidChangeService: Event<void>,
  ) {
    this.tracker = new AttentionTracker(getService, store);
    this.item.name = 'Kube Delivery rollouts';
    this.item.command = 'kubeDelivery.showActiveRollouts';
    this.subs.push(
      this.item,
      this.tracker,
      { dispose: this.tracker.onDidChange(() => this.render()).dispose },
      index.onDidChange(() => this.started && this.follow()),
      { dispose: onDidChangeService(() => this.started && this.tracker.resetService()).dispose },
    );
  }

  attach(view: vscode.TreeView<unknown>): void {
    this.view = view;
    this.render();
  }

  /** First sign of interest in clusters: start following every target. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.index.ready().then(() => this.follow());
  }

  get summary(): Summary {
    return this.last;
  }

  private follow(): void {
    this.tracker.setTargets(allTargets(this.index.pipelines()));
    this.render();
  }

  private render(): void {
    const s = this.tracker.summary;
    this.last = s;
    if (this.view) this.view.badge = s.waiting.length ? { value: s.waiting.length, tooltip: badgeTooltip(s.waiting.length) } : undefined;
    const text = statusBarText(s);
    if (!text) {
      this.item.hide();
      return;
    }
    this.item.text = text;
    const md = new vscode.MarkdownString(undefined, true);
    for (const t of s.active) md.appendMarkdown(`- **${targetLabel(t)}**: ${mergedStatus(this.store.get(targetKey(t))).description}\n`);
    md.appendMarkdown('\nClick to open the dashboard.');
    this.item.tooltip = md;
    this.item.accessibilityInformation = { label: `${s.active.length} Kube Delivery rollouts in progress, ${s.waiting.length} waiting for you` };
    this.item.show();
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
  }
}
