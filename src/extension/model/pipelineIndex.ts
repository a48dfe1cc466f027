// Every pipeline of every deploy file in the workspace, kept current by a file watcher. The tree,
// the badge, the status bar and the palette pickers read targets from here.
import * as vscode from 'vscode';
import type { Pipeline } from '../../deployfile/model';
import type { Log } from '../log';
import type { ParseFn } from './parser';

export const DEPLOY_FILE_GLOB = '**/*.{deploy.yaml,deploy.yml}';
const EXCLUDE = '**/{node_modules,.git,dist,out}/**';

export class PipelineIndex implements vscode.Disposable {
  private readonly files = new Map<string, Pipeline[]>();
  private readonly emitter = new vscode.EventEmitter<void>();
  private readonly subs: vscode.Disposable[] = [];
  private pending = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private loaded: Promise<void> | undefined;
  readonly onDidChange = this.emitter.event;

  constructor(
    private readonly parse: () => Promise<ParseFn>,
    private readonly log: Log,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(DEPLOY_FILE_GLOB);
    this.subs.push(
      watcher,
      watcher.onDidCreate((u) => this.schedule(u)),
      watcher.onDidChange((u) => this.schedule(u)),
      watcher.onDidDelete((u) => this.schedule(u)),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (isDeployFile(d.uri)) this.schedule(d.uri);
      }),
      this.emitter,
    );
  }

  /** Resolves once the first scan of the workspace is done. */
  ready(): Promise<void> {
    this.loaded ??= this.scan();
    return this.loaded;
  }

  /** In a stable order (file path, then document), so the tree never reshuffles on a re-scan. */
  pipelines(): Pipeline[] {
    return [...this.files.keys()].sort().flatMap((f) => this.files.get(f)!);
  }

  fileCount(): number {
    return this.files.size;
  }

  /** Re-reads every deploy file (the Refresh command). */
  async rescan(): Promise<void> {
    this.loaded = this.scan();
    await this.loaded;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.subs.forEach((s) => s.dispose());
  }

  private async scan(): Promise<void> {
    const uris = await vscode.workspace.findFiles(DEPLOY_FILE_GLOB, EXCLUDE);
    const parse = await this.parse();
    this.files.clear();
    await Promise.all(uris.map((u) => this.read(u, parse)));
    this.publish();
  }

  private schedule(uri: vscode.Uri): void {
    if (uri.scheme !== 'file' || /[\\/](node_modules|\.git)[\\/]/.test(uri.fsPath)) return;
    this.pending.add(uri.toString());
    if (this.timer) return;
    // Saves and watcher events for the same file arrive together: one re-parse for the burst.
    this.timer = setTimeout(() => void this.flush(), 100);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const uris = [...this.pending].map((s) => vscode.Uri.parse(s));
    this.pending.clear();
    await this.ready();
    const parse = await this.parse();
    await Promise.all(uris.map((u) => this.read(u, parse)));
    this.publish();
  }

  private async read(uri: vscode.Uri, parse: ParseFn): Promise<void> {
    try {
      const bytes = await vscode.workspace.fs.readFile(uri);
      const result = parse(Buffer.from(bytes).toString('utf8'), uri.fsPath);
      this.files.set(uri.fsPath, result.pipelines);
    } catch (err) {
      if ((err as { code?: string }).code === 'FileNotFound' || err instanceof vscode.FileSystemError) {
        this.files.delete(uri.fsPath);
      } else {
        this.log.error(`Could not read ${uri.fsPath}: ${(err as Error).message}`);
      }
    }
  }

  private publish(): void {
    void vscode.commands.executeCommand('setContext', 'kubeDelivery.hasDeployFiles', this.files.size > 0);
    this.emitter.fire();
  }
}

export function isDeployFile(uri: vscode.Uri): boolean {
  return /\.deploy\.ya?ml$/i.test(uri.path);
}
