// The dashboard panels: one per pipeline × environment (opening it again reveals the open one), restored
// after a window reload by a WebviewPanelSerializer from the state the page saved with `setState`.
import * as vscode from 'vscode';
import type { RolloutService } from '../../engine/api';
import type { Pipeline } from '../../deployfile/model';
import { keyId, parseKey, parseWebviewState, type HostMessage, type RolloutKey } from '../../webview/protocol';
import type { Log } from '../log';
import { dashboardHtml, messageHtml } from './html';
import { DashboardSession, type HandleOutcome } from './session';

export const VIEW_TYPE = 'kubeDelivery.dashboard';

export interface DashboardOptions {
  /** Pipelines of the workspace (parsed deploy files); default: scan the workspace once per call. */
  pipelines?: () => Promise<Pipeline[]>;
  /** Fires when the RolloutService was replaced (kubeconfig/sandbox changed): panels re-watch. */
  onDidChangeService?: vscode.Event<void>;
  /** Typed confirmation for protected environments; default: an InputBox asking for the name. */
  confirm?: (environment: string, what: string) => Promise<string | undefined>;
  actor?: string;
}

interface OpenPanel {
  panel: vscode.WebviewPanel;
  session: DashboardSession;
  subs: vscode.Disposable[];
}

export class DashboardManager implements vscode.Disposable {
  private readonly panels = new Map<string, OpenPanel>();
  /** Test seam: the next answers the typed confirmation gets (host tests cannot type into an InputBox). */
  confirmAnswers: (string | undefined)[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly getService: () => Promise<RolloutService>,
    private readonly options: DashboardOptions = {},
  ) {}

  /** Opens (or reveals) the dashboard of a pipeline in an environment. */
  async open(ref: { pipeline: string; environment: string; file?: string }): Promise<boolean> {
    const key = { pipeline: ref.pipeline, environment: ref.environment };
    const existing = this.panels.get(keyId(key));
    if (existing) {
      existing.panel.reveal(undefined, false);
      return true;
    }
    const pipeline = await this.findPipeline(key, ref.file);
    if (!pipeline) {
      void vscode.window.showWarningMessage(`No pipeline "${ref.pipeline}" with an environment "${ref.environment}" in this workspace's deploy files.`);
      return false;
    }
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, titleOf(key), vscode.ViewColumn.Active, this.webviewOptions());
    this.attach(panel, key, pipeline);
    return true;
  }

  /** WebviewPanelSerializer: a reloaded window hands back the panel and the state the page saved. */
  async restore(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const saved = parseWebviewState(state);
    this.log.info(`dashboard: restoring a panel after reload (${saved ? keyId(saved.key) : `unusable state: ${describeState(state)}`})`);
    panel.webview.options = { enableScripts: true, localResourceRoots: this.roots() };
    if (!saved) {
      panel.webview.html = messageHtml(panel.webview.cspSource, 'Kube Delivery', 'This dashboard could not be restored. Open it again from the Kube Delivery view.');
      return;
    }
    const key = saved.key;
    const other = this.panels.get(keyId(key));
    if (other) {
      // Two restored panels of the same rollout: keep the first one.
      panel.dispose();
      return;
    }
    const pipeline = await this.findPipeline(key);
    if (!pipeline) {
      panel.webview.html = messageHtml(panel.webview.cspSource, titleOf(key), `Pipeline ${key.pipeline} with environment ${key.environment} is no longer in this workspace's deploy files.`);
      return;
    }
    this.attach(panel, key, pipeline);
  }

  private roots(): vscode.Uri[] {
    return [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')];
  }

  private webviewOptions(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    // No retainContextWhenHidden: a hidden page is dropped and restores itself from setState plus one
    // full snapshot when shown again, which costs less than keeping the page alive.
    return { enableScripts: true, localResourceRoots: this.roots(), enableFindWidget: true };
  }

  private attach(panel: vscode.WebviewPanel, key: RolloutKey, pipeline: Pipeline): void {
    const webview = panel.webview;
    panel.title = titleOf(key);
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'activitybar.svg');
    webview.html = dashboardHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview.css')).toString(),
      key,
      title: titleOf(key),
    });
    const session = new DashboardSession({
      target: { pipeline, environment: key.environment },
      getService: this.getService,
      post: (msg: HostMessage) => webview.postMessage(msg),
      confirm: (env, what) => this.confirm(env, what),
      log: this.log,
      actor: this.options.actor,
    });
    const entry: OpenPanel = { panel, session, subs: [] };
    entry.subs.push(
      webview.onDidReceiveMessage((raw: unknown) => void session.handleMessage(raw)),
      panel.onDidDispose(() => {
        entry.subs.forEach((s) => s.dispose());
        session.dispose();
        if (this.panels.get(keyId(key)) === entry) this.panels.delete(keyId(key));
      }),
    );
    if (this.options.onDidChangeService) entry.subs.push(this.options.onDidChangeService(() => void session.start()));
    this.panels.set(keyId(key), entry);
    void session.start();
  }

  private async confirm(environment: string, what: string): Promise<string | undefined> {
    if (this.confirmAnswers.length) return this.confirmAnswers.shift();
    if (this.options.confirm) return this.options.confirm(environment, what);
    return vscode.window.showInputBox({
      title: `Confirm: ${what}`,
      prompt: `"${environment}" is a protected environment. Type its name to ${what}.`,
      placeHolder: environment,
      ignoreFocusOut: true,
      validateInput: (v) => (v === environment ? undefined : `Type "${environment}" exactly to confirm`),
    }).then((v) => (v === environment ? v : undefined));
  }

  private async findPipeline(key: RolloutKey, file?: string): Promise<Pipeline | undefined> {
    let all: Pipeline[];
    try {
      all = await (this.options.pipelines ?? scanWorkspacePipelines)();
    } catch (err) {
      this.log.error(`dashboard: could not read the deploy files: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    const matches = all.filter((p) => p.name === key.pipeline && p.environments.some((e) => e.name === key.environment));
    return matches.find((p) => !file || samePath(p.file, file)) ?? matches[0];
  }

  /** Palette invocation: pick a pipeline and environment. */
  async pick(): Promise<{ pipeline: string; environment: string; file: string } | undefined> {
    const all = await (this.options.pipelines ?? scanWorkspacePipelines)();
    const items = all.flatMap((p) =>
      p.environments.map((e) => ({
        label: `${p.name} → ${e.name}`,
        description: `${e.protected ? '$(lock) ' : ''}${e.context} · ${e.namespace}${this.panels.has(keyId({ pipeline: p.name, environment: e.name })) ? ' · open' : ''}`,
        detail: vscode.workspace.asRelativePath(p.file),
        ref: { pipeline: p.name, environment: e.name, file: p.file },
      })),
    );
    if (!items.length) {
      void vscode.window.showInformationMessage('No deploy file with environments in this workspace. Create one with "Kube Delivery: Create Deploy File".');
      return undefined;
    }
    const chosen = await vscode.window.showQuickPick(items, { title: 'Open Rollout Dashboard', placeHolder: 'Pipeline and environment' });
    return chosen?.ref;
  }

  // ---------------------------------------------------------------- test hooks

  /** Feeds a message to a panel's handler exactly as if the page had posted it. */
  inject(key: unknown, message: unknown): Promise<HandleOutcome> {
    const k = parseKey(key);
    if (!k.ok) return Promise.resolve({ accepted: false, error: `no such panel: ${k.error}` });
    const entry = this.panels.get(keyId(k.value));
    if (!entry) return Promise.resolve({ accepted: false, error: `no dashboard open for ${keyId(k.value)}` });
    return entry.session.handleMessage(message);
  }

  describe(): { key: RolloutKey; seq?: number; phase?: string; visible: boolean; stats: DashboardSession['stats'] }[] {
    return [...this.panels.values()].map((p) => ({ key: p.session.key, seq: p.session.snapshot?.seq, phase: p.session.snapshot?.phase, visible: p.panel.visible, stats: { ...p.session.stats } }));
  }

  dispose(): void {
    for (const p of [...this.panels.values()]) p.panel.dispose();
    this.panels.clear();
  }
}

function describeState(state: unknown): string {
  if (state === undefined || state === null) return 'none';
  try {
    return JSON.stringify(state).slice(0, 120);
  } catch {
    return typeof state;
  }
}

function titleOf(key: RolloutKey): string {
  return `Rollout: ${key.pipeline} → ${key.environment}`;
}

function samePath(a: string, b: string): boolean {
  return a === b || a.replace(/\\/g, '/').toLowerCase() === b.replace(/\\/g, '/').toLowerCase();
}

/** Fallback when no pipeline index is handed in: read and parse every deploy file of the workspace. */
async function scanWorkspacePipelines(): Promise<Pipeline[]> {
  const uris = await vscode.workspace.findFiles('**/*.{deploy.yaml,deploy.yml}', '**/{node_modules,.git,dist,out}/**');
  const { parseDeployFile } = await import('../../deployfile/parse');
  const out: Pipeline[] = [];
  for (const u of uris) {
    const text = Buffer.from(await vscode.workspace.fs.readFile(u)).toString('utf8');
    out.push(...parseDeployFile(text, u.fsPath).pipelines);
  }
  return out;
}
