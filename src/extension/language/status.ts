// A language status item for the active deploy file: valid, or how many errors and warnings.
import * as vscode from 'vscode';
import type { ParseResult } from '../../deployfile/model';
import type { DisposableStore } from '../lifecycle';
import type { DeployDiagnostics } from './diagnostics';

export function describeResult(result: ParseResult | undefined): { text: string; detail: string; severity: vscode.LanguageStatusSeverity } {
  if (!result) return { text: '$(sync~spin) Checking deploy file', detail: '', severity: vscode.LanguageStatusSeverity.Information };
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.filter((d) => d.severity === 'warning').length;
  const n = result.pipelines.length;
  const detail = `${n} valid pipeline${n === 1 ? '' : 's'}`;
  if (errors) return { text: `$(error) ${errors} error${errors === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`, detail, severity: vscode.LanguageStatusSeverity.Error };
  if (warnings) return { text: `$(warning) Valid, ${warnings} warning${warnings === 1 ? '' : 's'}`, detail, severity: vscode.LanguageStatusSeverity.Warning };
  return { text: '$(check) Deploy file valid', detail, severity: vscode.LanguageStatusSeverity.Information };
}

export function registerStatusItem(store: DisposableStore, diagnostics: DeployDiagnostics): vscode.LanguageStatusItem {
  const item = store.add(vscode.languages.createLanguageStatusItem('kubeDelivery.deployFileStatus', { language: 'deployfile' }));
  item.name = 'Kube Delivery deploy file';
  item.command = { title: 'Show Problems', command: 'workbench.actions.view.problems' };
  const update = () => {
    const uri = vscode.window.activeTextEditor?.document.uri;
    const d = describeResult(uri && diagnostics.lastResult(uri));
    item.text = d.text;
    item.detail = d.detail;
    item.severity = d.severity;
  };
  store.add(vscode.window.onDidChangeActiveTextEditor(update));
  store.add(diagnostics.onDidValidate((e) => {
    if (e.uri.toString() === vscode.window.activeTextEditor?.document.uri.toString()) update();
  }));
  update();
  return item;
}
