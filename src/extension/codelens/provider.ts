// CodeLens above each environment of a deploy file: "Start rollout to staging" when no run is
// active; the live state with Promote / Abort / Dashboard while one is. The targets of an open deploy
// file are watched for as long as the document is open.
import * as vscode from 'vscode';
import type { Disposable } from '../model/events';
import type { PipelineIndex } from '../model/pipelineIndex';
import type { ParseFn } from '../model/parser';
import type { SnapshotStore } from '../model/snapshotStore';
import { isActive, mergedStatus } from '../model/status';
import { allTargets, resolveTarget, targetKey, type ResolvedTarget, type TargetRef } from '../model/targets';

export const DEPLOY_FILE_SELECTOR: vscode.DocumentSelector = [
  { language: 'deployfile', scheme: 'file' },
  { pattern: '**/*.deploy.{yaml,yml}', scheme: 'file' },
];

export class RolloutCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  /** Watches held per open document (uri string → target key → hold). */
  private readonly holds = new Map<string, Map<string, Disposable>>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly parse: () => Promise<ParseFn>,
    private readonly index: PipelineIndex,
    private readonly store: SnapshotStore,
    private readonly onInterest: () => void,
  ) {
    this.subs.push(
      this.emitter,
      { dispose: store.onDidChange((keys) => this.onSnapshots(keys)).dispose },
      vscode.workspace.onDidCloseTextDocument((d) => this.releaseDoc(d.uri.toString())),
    );
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    const parse = await this.parse();
    const { pipelines } = parse(doc.getText(), doc.uri.fsPath);
    const lenses: vscode.CodeLens[] = [];
    const targets = allTargets(pipelines);
    if (targets.length) this.onInterest();
    const indexed = this.index.pipelines();
    const wanted = new Map<string, ResolvedTarget>();
    for (const docTarget of targets) {
      // Watch with the saved model (the index) so unsaved edits do not restart watches on every keystroke.
      const t = resolveTarget(indexed, docTarget) ?? docTarget;
      const key = targetKey(t);
      wanted.set(key, t);
      const r = docTarget.environmentModel.range;
      const range = new vscode.Range(r.start.line, 0, r.start.line, 0);
      const ref: TargetRef = { file: t.file, pipeline: t.pipeline, environment: t.environment };
      const s = this.store.get(key);
      const lock = t.environmentModel.protected ? '$(lock) ' : '';
      if (isActive(s)) {
        const st = mergedStatus(s);
        lenses.push(new vscode.CodeLens(range, { title: `$(${st.icon}) ${t.environment}: ${st.description}`, command: 'kubeDelivery.openDashboardFor', arguments: [ref], tooltip: 'Open the rollout dashboard' }));
        if (s!.actions.promote?.allowed) lenses.push(new vscode.CodeLens(range, { title: `${lock}Promote`, command: 'kubeDelivery.promote', arguments: [ref] }));
        if (s!.actions.resume?.allowed) lenses.push(new vscode.CodeLens(range, { title: `${lock}Resume`, command: 'kubeDelivery.resume', arguments: [ref] }));
        if (s!.actions.abort?.allowed) lenses.push(new vscode.CodeLens(range, { title: `${lock}Abort`, command: 'kubeDelivery.abort', arguments: [ref] }));
        lenses.push(new vscode.CodeLens(range, { title: 'Dashboard', command: 'kubeDelivery.openDashboardFor', arguments: [ref] }));
      } else {
        lenses.push(new vscode.CodeLens(range, { title: `${lock}$(play) Start rollout to ${t.environment}`, command: 'kubeDelivery.startRollout', arguments: [ref] }));
        if (s && s.phase !== 'idle') {
          const st = mergedStatus(s);
          lenses.push(new vscode.CodeLens(range, { title: `$(${st.icon}) ${st.description}`, command: 'kubeDelivery.openDashboardFor', arguments: [ref], tooltip: 'Open the rollout dashboard' }));
        } else if (s?.error) {
          lenses.push(new vscode.CodeLens(range, { title: `$(warning) ${s.error.message}`, command: 'kubeDelivery.showLog' }));
        }
      }
    }
    this.holdDoc(doc.uri.toString(), wanted);
    return lenses;
  }

  private holdDoc(uri: string, wanted: Map<string, ResolvedTarget>): void {
    const current = this.holds.get(uri) ?? new Map<string, Disposable>();
    for (const [key, d] of current) {
      if (!wanted.has(key)) {
        d.dispose();
        current.delete(key);
      }
    }
    for (const [key, t] of wanted) if (!current.has(key)) current.set(key, this.store.acquire(t));
    this.holds.set(uri, current);
  }

  private releaseDoc(uri: string): void {
    const current = this.holds.get(uri);
    if (!current) return;
    for (const d of current.values()) d.dispose();
    this.holds.delete(uri);
  }

  private onSnapshots(keys: string[]): void {
    for (const docHolds of this.holds.values()) {
      if (keys.some((k) => docHolds.has(k))) {
        this.emitter.fire();
        return;
      }
    }
  }

  dispose(): void {
    for (const uri of [...this.holds.keys()]) this.releaseDoc(uri);
    this.subs.forEach((s) => s.dispose());
  }
}
