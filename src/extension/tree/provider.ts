// The "Environments" tree: environments (grouped by name across deploy files) → pipelines with one
// merged status → versions, gate, tests, checks, past runs. Live through the SnapshotStore: a
// pipeline is watched while its environment is expanded and the view is visible; a change refreshes
// just the affected nodes. Children are computed lazily from the latest snapshot.
import * as vscode from 'vscode';
import type { Disposable } from '../model/events';
import type { PipelineIndex } from '../model/pipelineIndex';
import type { SnapshotStore } from '../model/snapshotStore';
import { mergedStatus, pipelineContextValue } from '../model/status';
import { allTargets, targetKey, targetLabel, type ResolvedTarget, type TargetRef } from '../model/targets';
import type { ClusterView } from '../services';
import { pipelineDetails } from './details';
import { environmentPlace, groupByEnvironment, type DetailNode, type EnvNode, type Node, type PipelineNode } from './nodes';

export class EnvironmentsTree implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly changeEmitter = new vscode.EventEmitter<Node | Node[] | undefined>();
  readonly onDidChangeTreeData = this.changeEmitter.event;
  private envNodes = new Map<string, EnvNode>();
  private pipelineNodes = new Map<string, PipelineNode>();
  private detailNodes = new Map<string, DetailNode>();
  private groups = new Map<string, ResolvedTarget[]>();
  /** Watches held by the tree, per environment name. */
  private holds = new Map<string, Disposable[]>();
  private collapsed = new Set<string>();
  private renderedEnv = new Map<string, string>();
  private visible = true;
  private contexts: Set<string> | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private view: vscode.TreeView<Node> | undefined;

  constructor(
    private readonly index: PipelineIndex,
    private readonly store: SnapshotStore,
    private readonly clusterView: () => Promise<ClusterView>,
  ) {
    this.subs.push(
      this.changeEmitter,
      index.onDidChange(() => this.refreshAll()),
      { dispose: store.onDidChange((keys) => this.onSnapshots(keys)).dispose },
    );
  }

  attach(view: vscode.TreeView<Node>): void {
    this.view = view;
    this.visible = view.visible;
    this.subs.push(
      view.onDidExpandElement((e) => {
        if (e.element.kind !== 'env') return;
        this.collapsed.delete(e.element.name);
        // The view may re-show cached children without asking again: hold their watches here too.
        if (this.visible) this.hold(e.element.name, this.groups.get(e.element.name) ?? []);
      }),
      view.onDidCollapseElement((e) => {
        if (e.element.kind === 'env') {
          this.collapsed.add(e.element.name);
          this.release(e.element.name);
        }
      }),
      view.onDidChangeVisibility((e) => {
        this.visible = e.visible;
        if (!e.visible) {
          for (const name of [...this.holds.keys()]) this.release(name);
        } else {
          this.changeEmitter.fire(undefined);
        }
      }),
    );
  }

  /** Cluster contexts changed (sandbox started, kubeconfig edited): recompute everything. */
  refreshAll(): void {
    this.contexts = undefined;
    this.changeEmitter.fire(undefined);
  }

  getTreeItem(node: Node): vscode.TreeItem {
    switch (node.kind) {
      case 'env':
        return this.envItem(node);
      case 'pipeline':
        return this.pipelineItem(node);
      case 'detail':
        return detailItem(node);
    }
  }

  async getChildren(node?: Node): Promise<Node[]> {
    if (!node) return this.roots();
    if (node.kind === 'env') return this.pipelinesOf(node);
    if (node.kind === 'pipeline') return this.detailsOf(node);
    return (node.desc.children ?? []).map((d) => this.detailNode(node.owner, node, d));
  }

  getParent(node: Node): Node | undefined {
    return node.kind === 'env' ? undefined : node.parent;
  }

  /** The pipeline node of a target, creating the path to it (for `reveal`). */
  async findPipelineNode(ref: TargetRef): Promise<PipelineNode | undefined> {
    await this.roots();
    const env = this.envNodes.get(ref.environment);
    if (!env) return undefined;
    const nodes = await this.pipelinesOf(env);
    return nodes.find((n) => n.target.pipeline === ref.pipeline && (!ref.file || n.target.file === ref.file));
  }

  /** For tests and the bench: is this target currently watched on behalf of the tree? */
  isHeld(key: string): boolean {
    for (const list of this.holds.values()) if (list.some((d) => (d as { key?: string }).key === key)) return true;
    return false;
  }

  dispose(): void {
    for (const name of [...this.holds.keys()]) this.release(name);
    this.subs.forEach((s) => s.dispose());
  }

  private async roots(): Promise<EnvNode[]> {
    await this.index.ready();
    const targets = allTargets(this.index.pipelines());
    this.groups = groupByEnvironment(targets);
    this.store.updateTargets(targets);
    if (!this.contexts) {
      try {
        const view = await this.clusterView();
        this.contexts = new Set(view.contexts.map((c) => c.name));
      } catch {
        this.contexts = new Set();
      }
    }
    const used = new Set(targets.map((t) => t.environmentModel.context));
    const anyKnown = [...used].some((c) => this.contexts!.has(c));
    // No context any deploy file names exists: show the welcome view that offers the sandbox.
    void vscode.commands.executeCommand('setContext', 'kubeDelivery.noClusterContext', targets.length > 0 && !anyKnown);
    if (!anyKnown) {
      for (const name of [...this.holds.keys()]) this.release(name);
      return [];
    }
    // Drop holds of environments that disappeared from the files.
    for (const name of [...this.holds.keys()]) if (!this.groups.has(name)) this.release(name);
    const nodes: EnvNode[] = [];
    for (const name of this.groups.keys()) {
      let n = this.envNodes.get(name);
      if (!n) {
        n = { kind: 'env', id: `env:${name}`, name };
        this.envNodes.set(name, n);
      }
      nodes.push(n);
    }
    return nodes;
  }

  private pipelinesOf(env: EnvNode): PipelineNode[] {
    const targets = this.groups.get(env.name) ?? [];
    const nodes = targets.map((t) => {
      const key = targetKey(t);
      let n = this.pipelineNodes.get(key);
      if (!n) {
        n = { kind: 'pipeline', id: key, target: t, parent: env };
        this.pipelineNodes.set(key, n);
      } else {
        n.target = t;
      }
      return n;
    });
    // getChildren of an environment means it is expanded and on screen: watch its pipelines.
    if (this.visible && !this.collapsed.has(env.name)) this.hold(env.name, targets);
    return nodes;
  }

  private detailsOf(node: PipelineNode): DetailNode[] {
    const key = node.id;
    const descs = pipelineDetails(this.store.get(key), this.store.errorOf(key), Date.now());
    return descs.map((d) => this.detailNode(node, node, d));
  }

  private detailNode(owner: PipelineNode, parent: PipelineNode | DetailNode, desc: DetailNode['desc']): DetailNode {
    const id = `${owner.id}/${desc.id}`;
    let n = this.detailNodes.get(id);
    if (!n) {
      n = { kind: 'detail', id, desc, parent, owner };
      this.detailNodes.set(id, n);
    } else {
      n.desc = desc;
      n.parent = parent;
    }
    return n;
  }

  private hold(envName: string, targets: readonly ResolvedTarget[]): void {
    const wanted = new Set(targets.map(targetKey));
    const current = this.holds.get(envName) ?? [];
    const have = new Set(current.map((d) => (d as { key?: string }).key));
    const next = current.filter((d) => {
      const keep = wanted.has((d as { key?: string }).key ?? '');
      if (!keep) d.dispose();
      return keep;
    });
    for (const t of targets) {
      const key = targetKey(t);
      if (have.has(key)) continue;
      const d = this.store.acquire(t) as Disposable & { key?: string };
      d.key = key;
      next.push(d);
    }
    this.holds.set(envName, next);
  }

  private release(envName: string): void {
    for (const d of this.holds.get(envName) ?? []) d.dispose();
    this.holds.delete(envName);
  }

  private onSnapshots(keys: string[]): void {
    const changed: Node[] = [];
    const envs = new Set<EnvNode>();
    for (const key of keys) {
      const n = this.pipelineNodes.get(key);
      if (!n) continue;
      changed.push(n);
      envs.add(n.parent);
    }
    // Refreshing an environment re-reads all its children: only when its own line changed
    // (reachability), never for a pipeline's progress.
    const envChanged = [...envs].filter((e) => this.renderedEnv.get(e.name) !== this.envState(e.name));
    if (changed.length) this.changeEmitter.fire([...envChanged, ...changed]);
  }

  /** What an environment's row shows that depends on snapshots (see envItem). */
  private envState(name: string): string {
    const targets = this.groups.get(name) ?? [];
    const snaps = targets.map((t) => this.store.get(targetKey(t))).filter((s) => s !== undefined);
    return snaps.length > 0 && snaps.every((s) => s.error?.kind === 'unreachable') ? 'unreachable' : 'ok';
  }

  private envItem(node: EnvNode): vscode.TreeItem {
    const targets = this.groups.get(node.name) ?? [];
    const item = new vscode.TreeItem(node.name, this.collapsed.has(node.name) ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.Expanded);
    item.id = node.id;
    const isProtected = targets.some((t) => t.environmentModel.protected);
    const missing = [...new Set(targets.map((t) => t.environmentModel.context))].filter((c) => this.contexts && !this.contexts.has(c));
    const envState = this.envState(node.name);
    this.renderedEnv.set(node.name, envState);
    const unreachable = envState === 'unreachable';
    const place = environmentPlace(targets);
    let state = '';
    if (missing.length) state = ` · context ${missing.join(', ')} not in kubeconfig`;
    else if (unreachable) state = ' · unreachable';
    item.description = `${place}${state}`;
    item.iconPath = new vscode.ThemeIcon(
      missing.length || unreachable ? 'debug-disconnect' : isProtected ? 'lock' : 'server-environment',
      missing.length || unreachable ? new vscode.ThemeColor('errorForeground') : undefined,
    );
    item.contextValue = `environment${isProtected ? ' protected' : ''}`;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${node.name}**${isProtected ? ' $(lock) protected: writes ask you to type the name' : ''}\n\n`);
    for (const t of targets) {
      md.appendMarkdown(`- ${t.pipeline}: \`${t.environmentModel.context}\` / \`${t.environmentModel.namespace}\`${t.environmentModel.after ? ` (after ${t.environmentModel.after})` : ''}\n`);
    }
    if (missing.length) md.appendMarkdown(`\nContext ${missing.map((c) => `\`${c}\``).join(', ')} is not in the kubeconfig Kube Delivery reads.`);
    item.tooltip = md;
    return item;
  }

  private pipelineItem(node: PipelineNode): vscode.TreeItem {
    const key = node.id;
    const snapshot = this.store.get(key);
    const error = this.store.errorOf(key);
    const status = error && !snapshot ? { icon: 'error', color: 'errorForeground', label: 'error', description: error } : mergedStatus(snapshot);
    const item = new vscode.TreeItem(node.target.pipeline, vscode.TreeItemCollapsibleState.Collapsed);
    item.id = key;
    item.description = status.description;
    item.iconPath = new vscode.ThemeIcon(status.icon, status.color ? new vscode.ThemeColor(status.color) : undefined);
    item.contextValue = pipelineContextValue(snapshot, node.target.environmentModel.protected);
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${targetLabel(node.target)}** — ${status.label}\n\n${status.description}\n\n`);
    if (snapshot) {
      md.appendMarkdown(`strategy ${snapshot.strategy}${snapshot.router ? ` (${snapshot.router})` : ''} · \`${snapshot.context}\` / \`${snapshot.namespace}\`\n\n`);
      if (snapshot.toImage) md.appendMarkdown(`${snapshot.fromImage ?? '—'} → ${snapshot.toImage}\n\n`);
      if (snapshot.driver) md.appendMarkdown(`driven by ${snapshot.driver.self ? 'this window' : snapshot.driver.holder}\n\n`);
    }
    md.appendMarkdown(`${vscode.workspace.asRelativePath(node.target.file)}`);
    item.tooltip = md;
    item.accessibilityInformation = { label: `${node.target.pipeline} in ${node.target.environment}: ${status.label}, ${status.description}` };
    return item;
  }

  get treeView(): vscode.TreeView<Node> | undefined {
    return this.view;
  }
}

function detailItem(node: DetailNode): vscode.TreeItem {
  const d = node.desc;
  const item = new vscode.TreeItem(d.label, d.children?.length ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
  item.id = node.id;
  item.description = d.description;
  item.tooltip = d.tooltip;
  item.iconPath = new vscode.ThemeIcon(d.icon, d.color ? new vscode.ThemeColor(d.color) : undefined);
  item.contextValue = `detail-${d.kind}`;
  return item;
}
