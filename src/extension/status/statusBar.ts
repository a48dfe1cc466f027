// The badge on the Environments view (rollouts waiting for a human, in every environment) and the
// status-bar item (rollouts in progress; click opens the dashboard). Both need every target's state,
// so once the user shows interest in clusters (opened the view, opened a deploy file, ran a command)
// this holds a watch on every target of the workspace. Before that nothing is watched, so activation
// and editing YAML never load the engine.
import * as vscode from 'vscode';
import type { Disposable } from '../model/events';
import type { PipelineIndex } from '../model/pipelineIndex';
import type { SnapshotStore } from '../model/snapshotStore';
import { allTargets, targetKey, targetLabel } from '../model/targets';
import { mergedStatus } from '../model/status';
import { badgeTooltip, statusBarText, summarize, type Summary } from './summary';

export class RolloutSummary implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('kubeDelivery.rollouts', vscode.StatusBarAlignment.Left, 50);
  private holds = new Map<string, Disposable>();
  private started = false;
  private readonly subs: vscode.Disposable[] = [];
  private last: Summary = { waiting: [], active: [] };
  private view: vscode.TreeView<unknown> | undefined;

  constructor(
    private readonly index: PipelineIndex,
    private readonly store: SnapshotStore,
  ) {
    this.item.name = 'Kube Delivery rollouts';
    this.item.command = 'kubeDelivery.showActiveRollouts';
    this.subs.push(this.item, { dispose: store.onDidChange(() => this.render()).dispose }, index.onDidChange(() => this.started && this.holdAll()));
  }

  attach(view: vscode.TreeView<unknown>): void {
    this.view = view;
    this.render();
  }

  /** First sign of interest in clusters: start watching every target. Idempotent. */
  start(): void {
    if (this.started) return;
    this.started = true;
    void this.index.ready().then(() => this.holdAll());
  }

  get summary(): Summary {
    return this.last;
  }

  private holdAll(): void {
    const targets = allTargets(this.index.pipelines());
    const keys = new Set(targets.map(targetKey));
    for (const [key, d] of this.holds) {
      if (!keys.has(key)) {
        d.dispose();
        this.holds.delete(key);
      }
    }
    for (const t of targets) {
      const key = targetKey(t);
      if (!this.holds.has(key)) this.holds.set(key, this.store.acquire(t));
    }
    this.render();
  }

  private render(): void {
    const s = summarize(this.store.snapshots());
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
    for (const d of this.holds.values()) d.dispose();
    this.holds.clear();
    this.subs.forEach((s) => s.dispose());
  }
}
