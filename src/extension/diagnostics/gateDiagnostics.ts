// Publishes gate problems in their own DiagnosticCollection (the language features own the schema
// diagnostics), recomputed for the targets whose snapshot changed.
import * as vscode from 'vscode';
import type { SnapshotStore } from '../model/snapshotStore';
import type { PipelineIndex } from '../model/pipelineIndex';
import { allTargets, targetKey } from '../model/targets';
import { gateProblems, type GateProblem } from './gates';

export class GateDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('kube-delivery-rollouts');
  private readonly perTarget = new Map<string, GateProblem[]>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly store: SnapshotStore,
    private readonly index: PipelineIndex,
  ) {
    this.subs.push(this.collection, { dispose: store.onDidChange((keys) => this.update(keys)).dispose }, index.onDidChange(() => this.update(undefined)));
  }

  private update(keys: string[] | undefined): void {
    const targets = allTargets(this.index.pipelines());
    const wanted = keys ? new Set(keys) : undefined;
    const touched = new Set<string>();
    for (const t of targets) {
      const key = targetKey(t);
      if (wanted && !wanted.has(key)) continue;
      const before = this.perTarget.get(key);
      const problems = gateProblems(t, this.store.get(key));
      if (!before?.length && !problems.length) continue;
      this.perTarget.set(key, problems);
      touched.add(t.file);
    }
    if (!keys) {
      // Targets removed from the files lose their problems.
      const live = new Set(targets.map(targetKey));
      for (const [key, problems] of this.perTarget) {
        if (!live.has(key)) {
          problems.forEach((p) => touched.add(p.file));
          this.perTarget.delete(key);
        }
      }
    }
    for (const file of touched) {
      const all = [...this.perTarget.values()].flat().filter((p) => p.file === file);
      this.collection.set(vscode.Uri.file(file), all.map(toDiagnostic));
    }
  }

  dispose(): void {
    this.subs.forEach((s) => s.dispose());
  }
}

function toDiagnostic(p: GateProblem): vscode.Diagnostic {
  const r = p.range;
  const d = new vscode.Diagnostic(
    new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character),
    p.message,
    p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning,
  );
  d.source = 'Kube Delivery rollout';
  d.code = 'gate';
  return d;
}
