// Model ↔ VS Code positions and ranges (both zero-based).
import * as vscode from 'vscode';
import type { Diagnostic, Position, Range, Severity } from '../../deployfile/model';

export function toVsRange(r: Range): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function toModelRange(r: vscode.Range): Range {
  return { start: toModelPosition(r.start), end: toModelPosition(r.end) };
}

export function toModelPosition(p: vscode.Position): Position {
  return { line: p.line, character: p.character };
}

export function toVsSeverity(s: Severity): vscode.DiagnosticSeverity {
  return s === 'error' ? vscode.DiagnosticSeverity.Error : s === 'warning' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Information;
}

export const DIAGNOSTIC_SOURCE = 'kube-delivery';

export function toVsDiagnostic(d: Diagnostic): vscode.Diagnostic {
  const out = new vscode.Diagnostic(toVsRange(d.range), d.message, toVsSeverity(d.severity));
  out.code = d.code;
  out.source = DIAGNOSTIC_SOURCE;
  return out;
}

export function isDeployDocument(doc: vscode.TextDocument): boolean {
  return doc.languageId === 'deployfile' || /\.deploy\.ya?ml$/i.test(doc.uri.path);
}
