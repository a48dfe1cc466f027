// Diagnostics for deploy files: immediately on open, debounced while typing, cleared when the
// document closes or the file is deleted.
import * as vscode from 'vscode';
import type { ParseResult } from '../../deployfile/model';
import type { Log } from '../log';
import type { DisposableStore } from '../lifecycle';
import { isDeployDocument, toVsDiagnostic } from './convert';
import type { DeployDocuments } from './state';

export const DEBOUNCE_MS = 150;

export interface ValidationEvent {
  uri: vscode.Uri;
  /** Undefined when the document was closed or deleted. */
  result?: ParseResult;
}

export class DeployDiagnostics implements vscode.Disposable {
  readonly collection = vscode.languages.createDiagnosticCollection('kube-delivery');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly emitter = new vscode.EventEmitter<ValidationEvent>();
  readonly onDidValidate = this.emitter.event;
  private readonly results = new Map<string, ParseResult>();

  constructor(
    private readonly docs: DeployDocuments,
    private readonly log: Log,
  ) {}

  lastResult(uri: vscode.Uri): ParseResult | undefined {
    return this.results.get(uri.toString());
  }

  register(store: DisposableStore): void {
    store.add(this);
    store.add(vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)));
    store.add(vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.contentChanges.length) this.schedule(e.document, DEBOUNCE_MS);
    }));
    store.add(vscode.workspace.onDidCloseTextDocument((d) => this.clear(d.uri)));
    store.add(vscode.workspace.onDidDeleteFiles((e) => e.files.forEach((u) => this.clearUnder(u))));
    const watcher = store.add(vscode.workspace.createFileSystemWatcher('**/*.{deploy.yaml,deploy.yml}', true, true, false));
    store.add(watcher.onDidDelete((u) => this.clear(u)));
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  schedule(doc: vscode.TextDocument, delay: number): void {
    // Diff views and other virtual documents (git:, output:) are not the user's file.
    if (!isDeployDocument(doc) || (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled')) return;
    const key = doc.uri.toString();
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending);
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void this.run(doc);
    }, delay));
  }

  private async run(doc: vscode.TextDocument): Promise<void> {
    if (doc.isClosed) return;
    try {
      const version = doc.version;
      const result = await this.docs.validate(doc);
      if (doc.isClosed || doc.version !== version) return;
      this.collection.set(doc.uri, result.diagnostics.map(toVsDiagnostic));
      this.results.set(doc.uri.toString(), result);
      this.emitter.fire({ uri: doc.uri, result });
    } catch (err) {
      // A parser bug must not take the editor down; say so in the log.
      this.log.error(`Validating ${doc.uri.fsPath} failed: ${(err as Error).message}`);
    }
  }

  private clear(uri: vscode.Uri): void {
    const key = uri.toString();
    const pending = this.timers.get(key);
    if (pending) clearTimeout(pending);
    this.timers.delete(key);
    this.collection.delete(uri);
    this.results.delete(key);
    this.docs.forget(uri);
    this.emitter.fire({ uri });
  }

  private clearUnder(uri: vscode.Uri): void {
    const prefix = uri.toString();
    this.collection.forEach((u) => {
      const s = u.toString();
      if (s === prefix || s.startsWith(`${prefix}/`)) this.clear(u);
    });
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.collection.dispose();
    this.emitter.dispose();
  }
}
