// "Start Sandbox Cluster" / "Stop Sandbox Cluster": runs the Kubernetes API emulator inside the
// extension host (dist/lazy-sandbox.js, loaded on first use), seeds it from the workspace's deploy
// files and examples, and hands its kubeconfig to the engine in memory. The `sandbox` context exists
// for this extension only: nothing is written to the user's kubeconfig.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Log } from '../log';
import { setSandboxKubeconfig } from '../services';
import type { LazySandboxModule, SandboxLike, StartOptions } from './types';

export class SandboxManager implements vscode.Disposable {
  private handle: SandboxLike | undefined;
  private starting: Promise<SandboxLike> | undefined;
  private readonly emitter = new vscode.EventEmitter<boolean>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly log: Log) {}

  get running(): boolean {
    return !!this.handle;
  }

  /** The running sandbox (tests read its store and admin handle). */
  get current(): SandboxLike | undefined {
    return this.handle;
  }

  start(options: Partial<StartOptions> = {}): Promise<SandboxLike> {
    if (this.handle) return Promise.resolve(this.handle);
    this.starting ??= Promise.resolve(
      vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Kube Delivery: starting the sandbox cluster…' }, async () => {
        const lazy = require(path.join(__dirname, 'lazy-sandbox.js')) as LazySandboxModule;
        const seed = options.seed ?? (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
        const speed = options.speed ?? vscode.workspace.getConfiguration('kubeDelivery').get<number>('sandbox.speed') ?? 1;
        const handle = await lazy.start({ ...options, seed, speed });
        for (const p of handle.seeded.problems) this.log.warn(`Sandbox seed: ${p}`);
        this.handle = handle;
        this.log.info(`Sandbox cluster running at ${handle.url} (context "sandbox", kept in memory; namespaces ${handle.seeded.namespaces.join(', ') || 'none'} seeded from ${seed.length} folder(s), speed ×${speed})`);
        setSandboxKubeconfig(handle.kubeconfig);
        await vscode.commands.executeCommand('setContext', 'kubeDelivery.sandboxRunning', true);
        this.emitter.fire(true);
        return handle;
      }),
    ).then(
        (h) => {
          this.starting = undefined;
          return h;
        },
        (err) => {
          this.starting = undefined;
          this.log.error(`The sandbox cluster did not start: ${err instanceof Error ? err.message : String(err)}`);
          throw err;
        },
      );
    return this.starting!;
  }

  async stop(): Promise<boolean> {
    const h = this.handle;
    if (!h) return false;
    this.handle = undefined;
    setSandboxKubeconfig(undefined);
    await vscode.commands.executeCommand('setContext', 'kubeDelivery.sandboxRunning', false);
    try {
      await h.close();
    } finally {
      this.log.info('Sandbox cluster stopped');
      this.emitter.fire(false);
    }
    return true;
  }

  dispose(): void {
    const h = this.handle;
    this.handle = undefined;
    if (h) void h.close().catch(() => undefined);
    this.emitter.dispose();
  }
}
