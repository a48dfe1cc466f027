// Deploy-file language features: diagnostics, completion, hover, outline, quick fixes and a language
// status item. Registration is cheap; the parser and helpers load when a deploy file is first checked.
import * as vscode from 'vscode';
import type { DisposableStore } from '../lifecycle';
import type { Log } from '../log';
import { DeployDiagnostics } from './diagnostics';
import { DeployCodeActionProvider, DeployCompletionProvider, DeployHoverProvider, DeploySymbolProvider, SELECTOR } from './providers';
import { DeployDocuments } from './state';
import { registerStatusItem } from './status';

export interface LanguageFeatures {
  diagnostics: DeployDiagnostics;
  documents: DeployDocuments;
}

export function registerLanguageFeatures(_context: vscode.ExtensionContext, store: DisposableStore, log: Log): LanguageFeatures {
  const documents = new DeployDocuments();
  const diagnostics = new DeployDiagnostics(documents, log);
  diagnostics.register(store);
  store.add(vscode.languages.registerCompletionItemProvider(SELECTOR, new DeployCompletionProvider(documents), ...DeployCompletionProvider.triggers));
  store.add(vscode.languages.registerHoverProvider(SELECTOR, new DeployHoverProvider(documents)));
  store.add(vscode.languages.registerDocumentSymbolProvider(SELECTOR, new DeploySymbolProvider(documents), { label: 'Kube Delivery' }));
  store.add(vscode.languages.registerCodeActionsProvider(SELECTOR, new DeployCodeActionProvider(documents), DeployCodeActionProvider.metadata));
  registerStatusItem(store, diagnostics);
  return { diagnostics, documents };
}
