// Refresh, validate the workspace, open the dashboard for a target, the status-bar action, and the
// sandbox start/stop commands.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParseFn } from '../model/parser';
import { DEPLOY_FILE_GLOB } from '../model/pipelineIndex';
import { resolveTarget, targetKey, toTargetRef, type TargetRef } from '../model/targets';
import { mergedStatus } from '../model/status';
import { resetServices } from '../services';
import type { SandboxManager } from '../sandbox/manager';
import type { RolloutSummary } from '../status/statusBar';
import type { CommandContext } from './context';
import { pickTarget } from './pick';
import { BACK, prompts } from './prompts';

export interface MiscDeps extends CommandContext {
  sandbox: SandboxManager;
  summary: RolloutSummary;
  parse: () => Promise<ParseFn>;
}

export function registerMiscCommands(d: MiscDeps): vscode.Disposable[] {
  const validation = vscode.languages.createDiagnosticCollection('kube-delivery-workspace');
  return [
    validation,
    // Files opened in an editor get live diagnostics from the language features; drop ours for them.
    vscode.workspace.onDidOpenTextDocument((doc) => validation.delete(doc.uri)),
    vscode.commands.registerCommand('kubeDelivery.refresh', async () => {
      d.log.info('Refresh: re-reading deploy files and kubeconfig');
      resetServices('refresh requested');
      await d.index.rescan();
      d.tree.refreshAll();
    }),
    vscode.commands.registerCommand('kubeDelivery.validateWorkspace', () => validateWorkspace(d, validation)),
    vscode.commands.registerCommand('kubeDelivery.openDashboardFor', (arg?: unknown) => openDashboard(d, arg)),
    vscode.commands.registerCommand('kubeDelivery.showActiveRollouts', async () => {
      const active = d.summary.summary.active;
      if (active.length === 1) return openDashboard(d, active[0]);
      if (!active.length) return openDashboard(d, undefined);
      const answer = await prompts().pick(
        active.map((t) => ({ label: `${t.pipeline} → ${t.environment}`, description: mergedStatus(d.store.get(targetKey(t))).description, t })),
        { title: 'Kube Delivery: Rollouts in Progress', placeholder: 'Open the dashboard of…' },
      );
      if (answer && answer !== BACK) return openDashboard(d, answer.t);
      return undefined;
    }),
    vscode.commands.registerCommand('kubeDelivery.startSandbox', async (arg?: { speed?: number }) => {
      try {
        await d.index.ready();
        // Seed every folder that holds a deploy file (the sandbox reads one directory, not recursively).
        const dirs = [...new Set(d.index.pipelines().map((p) => path.dirname(p.file)))];
        const speed = typeof arg?.speed === 'number' && arg.speed > 0 ? arg.speed : undefined;
        const h = await d.sandbox.start({ ...(dirs.length ? { seed: dirs } : {}), ...(speed ? { speed } : {}) });
        d.summary.start();
        d.tree.refreshAll();
        void vscode.window.showInformationMessage(`Sandbox cluster running (context "sandbox", for Kube Delivery only) at ${h.url}.`);
        return { url: h.url };
      } catch (err) {
        void vscode.window.showErrorMessage(`The sandbox cluster did not start: ${err instanceof Error ? err.message : String(err)}`);
        return undefined;
      }
    }),
    vscode.commands.registerCommand('kubeDelivery.stopSandbox', async () => {
      const stopped = await d.sandbox.stop();
      d.tree.refreshAll();
      if (!stopped) void vscode.window.showInformationMessage('The sandbox cluster is not running.');
      return stopped;
    }),
    vscode.commands.registerCommand('kubeDelivery.revealTarget', async (arg?: unknown) => {
      const ref = toTargetRef(arg);
      if (!ref) return false;
      const node = await d.tree.findPipelineNode(ref);
      const view = d.tree.treeView;
      if (!node || !view) return false;
      await view.reveal(node, { select: true, focus: true, expand: false });
      return true;
    }),
  ];
}

async function openDashboard(d: MiscDeps, arg: unknown): Promise<unknown> {
  let ref: TargetRef | undefined = toTargetRef(arg);
  if (!ref) {
    const t = await pickTarget(d, undefined, 'Kube Delivery: Open Dashboard');
    if (!t) return undefined;
    ref = t;
  } else {
    await d.index.ready();
    const t = resolveTarget(d.index.pipelines(), ref);
    if (t) ref = t;
  }
  const args = { pipeline: ref.pipeline, environment: ref.environment, file: ref.file };
  d.log.info(`Open dashboard: ${ref.pipeline} → ${ref.environment}`);
  const commands = await vscode.commands.getCommands(true);
  if (!commands.includes('kubeDelivery.openDashboard')) {
    void vscode.window.showWarningMessage('The rollout dashboard is not available in this build.');
    return undefined;
  }
  return vscode.commands.executeCommand('kubeDelivery.openDashboard', args);
}

async function validateWorkspace(d: MiscDeps, collection: vscode.DiagnosticCollection): Promise<{ files: number; errors: number; warnings: number }> {
  const parse = await d.parse();
  const uris = await vscode.workspace.findFiles(DEPLOY_FILE_GLOB, '**/{node_modules,.git}/**');
  const open = new Set(vscode.workspace.textDocuments.map((t) => t.uri.toString()));
  let errors = 0;
  let warnings = 0;
  collection.clear();
  for (const uri of uris) {
    const text = Buffer.from(await vscode.workspace.fs.readFile(uri)).toString('utf8');
    const { diagnostics } = parse(text, uri.fsPath);
    for (const x of diagnostics) {
      if (x.severity === 'error') errors++;
      else if (x.severity === 'warning') warnings++;
      d.log[x.severity === 'error' ? 'error' : x.severity === 'warning' ? 'warn' : 'info'](
        `${vscode.workspace.asRelativePath(uri)}:${x.range.start.line + 1}:${x.range.start.character + 1}: ${x.severity} ${x.code} ${x.message}`,
      );
    }
    if (!open.has(uri.toString())) {
      collection.set(
        uri,
        diagnostics.map((x) => {
          const diag = new vscode.Diagnostic(
            new vscode.Range(x.range.start.line, x.range.start.character, x.range.end.line, x.range.end.character),
            x.message,
            x.severity === 'error' ? vscode.DiagnosticSeverity.Error : x.severity === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information,
          );
          diag.code = x.code;
          diag.source = 'Kube Delivery';
          return diag;
        }),
      );
    }
  }
  const summary = `${uris.length} deploy file${uris.length === 1 ? '' : 's'}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  d.log.info(`Validate workspace: ${summary}`);
  if (errors) {
    void vscode.window.showErrorMessage(`Kube Delivery: ${summary}.`, 'Show Problems').then((c) => c && vscode.commands.executeCommand('workbench.actions.view.problems'));
  } else {
    void vscode.window.showInformationMessage(`Kube Delivery: ${summary}.`);
  }
  return { files: uris.length, errors, warnings };
}
